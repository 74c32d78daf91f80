/**
 * Migration 0002_auth: users, teams and their members, API tokens and browser sessions; and the
 * indexes the HTTP API's run lists and grids read through (newest runs first, per pipeline or all).
 */
import type { Kysely, Migration } from "kysely";

/** The schema of accounts and credentials, and indexes for listing runs. */
export const authMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("users")
      .addColumn("username", "text", (c) => c.primaryKey())
      .addColumn("display_name", "text")
      .addColumn("password_hash", "text")
      .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("kind", "text", (c) => c.notNull().defaultTo("person"))
      .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("teams")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("description", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("team_members")
      .addColumn("team", "text", (c) => c.notNull())
      .addColumn("username", "text", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("team_members_pk", ["team", "username"])
      .execute();
    await db.schema.createIndex("team_members_username").on("team_members").column("username").execute();

    await db.schema
      .createTable("api_tokens")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("username", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint")
      .addColumn("last_used_at", "bigint")
      .addColumn("revoked_at", "bigint")
      .execute();
    await db.schema.createIndex("api_tokens_username").on("api_tokens").column("username").execute();

    await db.schema
      .createTable("sessions")
      .addColumn("id_hash", "text", (c) => c.primaryKey())
      .addColumn("username", "text", (c) => c.notNull())
      .addColumn("csrf_token", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("last_seen_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("sessions_username").on("sessions").column("username").execute();

    // Run lists read newest first, for all pipelines or for one; the tie-break on created_at is part of the order.
    await db.schema.createIndex("runs_logical_created").on("runs").columns(["logical_date", "created_at"]).execute();
    await db.schema.createIndex("runs_pipeline_logical_created").on("runs").columns(["pipeline_id", "logical_date", "created_at"]).execute();
  },
};
