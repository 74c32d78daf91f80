/** Migration 0010: share links of volume files and folders. */
import type { Kysely, Migration } from "kysely";

export const shareMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("shares")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("owner", "text", (c) => c.notNull())
      .addColumn("team", "text", (c) => c.notNull())
      .addColumn("volume", "text", (c) => c.notNull())
      .addColumn("path", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("password_hash", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint")
      .addColumn("revoked_at", "bigint")
      .addColumn("downloads", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex("shares_owner").on("shares").columns(["owner", "created_at"]).execute();
  },
};
