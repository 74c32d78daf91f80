/** Migration 0004: sandboxes, one row each; (owner, name) is unique. */
import type { Kysely, Migration } from "kysely";

export const sandboxMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("sandboxes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("owner", "text", (c) => c.notNull())
      .addColumn("team", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("profile", "text", (c) => c.notNull())
      .addColumn("backend", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("reason", "text")
      .addColumn("gpus", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("runtime", "text")
      .addColumn("upstream_token", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addColumn("started_at", "bigint")
      .addColumn("last_activity", "bigint", (c) => c.notNull())
      .addUniqueConstraint("sandboxes_owner_name", ["owner", "name"])
      .execute();
    await db.schema.createIndex("sandboxes_team").on("sandboxes").columns(["team", "state"]).execute();
  },
};
