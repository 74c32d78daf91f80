/** Migration 0009: the git commit a pipeline version was loaded from (pipelines.git), null for a folder's file. */
import type { Kysely, Migration } from "kysely";

export const pipelineCommitMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("pipeline_versions").addColumn("git_commit", "text").execute();
  },
};
