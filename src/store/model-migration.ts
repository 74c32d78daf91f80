/** Migration 0005: the model registry (models, their versions with lineage, their aliases). */
import type { Kysely, Migration } from "kysely";

export const modelMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("models")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("team", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("model_versions")
      .addColumn("name", "text", (c) => c.notNull().references("models.name").onDelete("cascade"))
      .addColumn("version", "integer", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("sha256", "text", (c) => c.notNull())
      .addColumn("artifact_path", "text", (c) => c.notNull())
      .addColumn("source_path", "text", (c) => c.notNull())
      .addColumn("size_bytes", "bigint", (c) => c.notNull())
      .addColumn("run_id", "text")
      .addColumn("task_id", "text")
      .addColumn("params", "text")
      .addColumn("metrics", "text")
      .addColumn("created_by", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("model_versions_pk", ["name", "version"])
      .execute();
    await db.schema
      .createTable("model_aliases")
      .addColumn("name", "text", (c) => c.notNull().references("models.name").onDelete("cascade"))
      .addColumn("alias", "text", (c) => c.notNull())
      .addColumn("version", "integer", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("model_aliases_pk", ["name", "alias"])
      .execute();
  },
};
