/** Migration 0013: team connections (endpoints and settings; credentials only as references into team secrets). */
import type { Kysely, Migration } from "kysely";

export const connectionMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("connections")
      .addColumn("team", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("settings", "text", (c) => c.notNull())
      .addColumn("secret_refs", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("connections_pk", ["team", "name"])
      .execute();
  },
};
