/** Migration 0012: a deployment's inference key (shared by its local replicas) and whether its replicas ask for it. */
import type { Kysely, Migration } from "kysely";

export const deploymentKeyMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("deployments").addColumn("token_auth", "integer", (c) => c.notNull().defaultTo(1)).execute();
    await db.schema.alterTable("deployments").addColumn("inference_key", "text").execute();
  },
};
