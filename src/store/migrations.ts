/**
 * Schema migrations, in order. Each is written once and never edited after it has shipped; a change
 * of schema is a new migration. Column types are chosen to work on SQLite and PostgreSQL alike:
 * times are epoch milliseconds (bigint), JSON is text.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { authMigration } from "./auth-migration.js";
import { sandboxMigration } from "./sandbox-migration.js";
import { modelMigration } from "./model-migration.js";
import { deploymentKeyMigration } from "./deployment-key-migration.js";
import { deploymentMigration } from "./deployment-migration.js";
import { secretsMigration } from "./secrets-migration.js";
import { shareMigration } from "./share-migration.js";
import { pipelineCommitMigration } from "./pipeline-commit-migration.js";
import { connectionMigration } from "./connection-migration.js";

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("pipelines")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("team", "text", (c) => c.notNull())
      .addColumn("file", "text", (c) => c.notNull())
      .addColumn("version", "text", (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("schedule_text", "text")
      .addColumn("paused", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("active", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("pipeline_versions")
      .addColumn("pipeline_id", "text", (c) => c.notNull())
      .addColumn("version", "text", (c) => c.notNull())
      .addColumn("spec", "text", (c) => c.notNull())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("file", "text", (c) => c.notNull())
      .addColumn("base_dir", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("pipeline_versions_pk", ["pipeline_id", "version"])
      .execute();

    await db.schema
      .createTable("load_errors")
      .addColumn("file", "text", (c) => c.primaryKey())
      .addColumn("pipeline_id", "text")
      .addColumn("message", "text", (c) => c.notNull())
      .addColumn("issues", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("runs")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("pipeline_id", "text", (c) => c.notNull())
      .addColumn("version", "text", (c) => c.notNull())
      .addColumn("run_key", "text", (c) => c.notNull())
      .addColumn("trigger", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("logical_date", "bigint", (c) => c.notNull())
      .addColumn("data_interval_start", "bigint")
      .addColumn("data_interval_end", "bigint")
      .addColumn("params", "text", (c) => c.notNull())
      .addColumn("note", "text")
      .addColumn("created_by", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("started_at", "bigint")
      .addColumn("ended_at", "bigint")
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addUniqueConstraint("runs_pipeline_run_key", ["pipeline_id", "run_key"])
      .execute();
    await db.schema.createIndex("runs_pipeline_logical").on("runs").columns(["pipeline_id", "logical_date"]).execute();
    await db.schema.createIndex("runs_state").on("runs").columns(["state", "pipeline_id"]).execute();

    await db.schema
      .createTable("task_instances")
      .addColumn("run_id", "text", (c) => c.notNull())
      .addColumn("task_id", "text", (c) => c.notNull())
      .addColumn("pipeline_id", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("try_number", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("max_tries", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("pool", "text", (c) => c.notNull())
      .addColumn("pool_slots", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("priority_weight", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("scheduled_at", "bigint")
      .addColumn("queued_at", "bigint")
      .addColumn("started_at", "bigint")
      .addColumn("ended_at", "bigint")
      .addColumn("next_retry_at", "bigint")
      .addColumn("outputs", "text")
      .addColumn("reason", "text")
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("task_instances_pk", ["run_id", "task_id"])
      .execute();
    await db.schema.createIndex("task_instances_state").on("task_instances").columns(["state", "pipeline_id"]).execute();
    await db.schema.createIndex("task_instances_schedulable").on("task_instances").columns(["state", "priority_weight", "scheduled_at"]).execute();

    await db.schema
      .createTable("attempts")
      .addColumn("run_id", "text", (c) => c.notNull())
      .addColumn("task_id", "text", (c) => c.notNull())
      .addColumn("try_number", "integer", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("executor", "text", (c) => c.notNull())
      .addColumn("external_id", "text", (c) => c.notNull())
      .addColumn("token", "text", (c) => c.notNull())
      .addColumn("host", "text", (c) => c.notNull())
      .addColumn("pid", "integer")
      .addColumn("pid_start", "bigint")
      .addColumn("attempt_dir", "text")
      .addColumn("log_path", "text")
      .addColumn("started_at", "bigint", (c) => c.notNull())
      .addColumn("ended_at", "bigint")
      .addColumn("exit_code", "integer")
      .addColumn("reason", "text")
      .addColumn("kill_reason", "text")
      .addColumn("scheduler_id", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("attempts_pk", ["run_id", "task_id", "try_number"])
      .execute();
    await db.schema.createIndex("attempts_state").on("attempts").columns(["state", "executor"]).execute();

    await db.schema
      .createTable("pools")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("slots", "integer", (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await sql`insert into pools (name, slots, description, created_at) values ('default', 128, 'the pool of tasks that name none', 0)`.execute(db);
  },
};

const migrations: Record<string, Migration> = {
  "0001_initial": initial,
  "0002_auth": authMigration,
  "0003_secrets": secretsMigration,
  "0004_sandboxes": sandboxMigration,
  "0005_models": modelMigration,
  "0006_deployments": deploymentMigration,
  "0009_pipeline_commits": pipelineCommitMigration,
  "0010_shares": shareMigration,
  "0012_deployment_keys": deploymentKeyMigration,
  "0013_connections": connectionMigration,
};

/** Supplies the migrations above to Kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
