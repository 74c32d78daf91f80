/** Migration 0006: deployments (a model alias served by replicas, locally or on Kubernetes). */
import type { Kysely, Migration } from "kysely";

export const deploymentMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("deployments")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("team", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull().references("models.name"))
      .addColumn("ref", "text", (c) => c.notNull())
      .addColumn("version", "integer", (c) => c.notNull())
      .addColumn("previous_version", "integer")
      .addColumn("replicas", "integer", (c) => c.notNull())
      .addColumn("target", "text", (c) => c.notNull())
      .addColumn("cluster", "text")
      .addColumn("namespace", "text")
      .addColumn("cpu", "text")
      .addColumn("memory", "text")
      .addColumn("gpus", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("message", "text")
      .addColumn("replica_status", "text")
      .addColumn("created_by", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("deployments_model").on("deployments").columns(["model", "ref"]).execute();
    await db.schema.createIndex("deployments_team").on("deployments").columns(["team"]).execute();
  },
};
