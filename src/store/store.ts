/**
 * The database behind Capstan: SQLite (WAL) for the embedded default, PostgreSQL for clusters, one
 * Kysely schema for both. Every state change runs in one transaction through `transaction()`.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { CamelCasePlugin, Kysely, Migrator, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { ChangeFeed } from "./change-feed.js";
import { AttemptRepository } from "./attempt-repository.js";
import { ConnectionRepository } from "./connection-repository.js";
import { migrationProvider } from "./migrations.js";
import { PipelineRepository } from "./pipeline-repository.js";
import { ModelRepository } from "./model-repository.js";
import { DeploymentRepository } from "./deployment-repository.js";
import { PoolRepository } from "./pool-repository.js";
import { SandboxRepository } from "./sandbox-repository.js";
import { SecretRepository } from "./secret-repository.js";
import { ShareRepository } from "./share-repository.js";
import { RunGridRepository } from "./run-grid-repository.js";
import { RunRepository } from "./run-repository.js";
import type { Database } from "./schema.js";
import { SessionRepository } from "./session-repository.js";
import { TaskInstanceRepository } from "./task-instance-repository.js";
import { TeamRepository } from "./team-repository.js";
import { TokenRepository } from "./token-repository.js";
import { UserRepository } from "./user-repository.js";

export type Dialect = "sqlite" | "postgres";

/** The repositories, bound to the database or to one transaction. */
export interface Repositories {
  readonly pipelines: PipelineRepository;
  readonly runs: RunRepository;
  readonly tasks: TaskInstanceRepository;
  readonly attempts: AttemptRepository;
  readonly pools: PoolRepository;
  readonly users: UserRepository;
  readonly teams: TeamRepository;
  readonly tokens: TokenRepository;
  readonly sessions: SessionRepository;
  readonly grid: RunGridRepository;
  readonly secrets: SecretRepository;
  readonly sandboxes: SandboxRepository;
  readonly models: ModelRepository;
  readonly deployments: DeploymentRepository;
  readonly shares: ShareRepository;
  readonly connections: ConnectionRepository;
}

/** A database URL, or a path that is not one, could not be opened. */
export class StoreError extends Error {
  override readonly name = "StoreError";
}

function repositories(db: Kysely<Database>, dialect: Dialect): Repositories {
  return {
    pipelines: new PipelineRepository(db),
    runs: new RunRepository(db),
    tasks: new TaskInstanceRepository(db, dialect),
    attempts: new AttemptRepository(db),
    pools: new PoolRepository(db),
    users: new UserRepository(db),
    teams: new TeamRepository(db),
    tokens: new TokenRepository(db),
    sessions: new SessionRepository(db),
    grid: new RunGridRepository(db, dialect),
    secrets: new SecretRepository(db),
    sandboxes: new SandboxRepository(db),
    models: new ModelRepository(db),
    deployments: new DeploymentRepository(db),
    shares: new ShareRepository(db),
    connections: new ConnectionRepository(db),
  };
}

export interface OpenStoreOptions {
  /** `postgres://…`/`postgresql://…`, `sqlite:PATH`, or a file path for SQLite. */
  url: string;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
}

/** An open database with its repositories (the Repositories members are set in the constructor). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the class carries the repositories it assigns
export interface Store extends Repositories {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Changes announced between the processes of one PostgreSQL database (none on SQLite). */
  readonly changes: ChangeFeed | undefined;

  private constructor(db: Kysely<Database>, dialect: Dialect, changes?: ChangeFeed) {
    this.db = db;
    this.dialect = dialect;
    this.changes = changes;
    Object.assign(this, repositories(db, dialect));
  }

  /** Opens the database and brings its schema up to date. */
  static async open(options: OpenStoreOptions): Promise<Store> {
    const store = Store.connect(options);
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw new StoreError(`cannot prepare the database ${redact(options.url)}: ${(error as Error).message}`, { cause: error });
    }
    return store;
  }

  private static connect(options: OpenStoreOptions): Store {
    const url = options.url;
    if (/^postgres(ql)?:\/\//.test(url)) {
      const pool = new pg.Pool({
        connectionString: url,
        max: options.poolSize ?? 10,
        // Times are bigint epoch milliseconds; read them as numbers.
        types: {
          getTypeParser: ((oid: number, format?: "text" | "binary") =>
            oid === 20 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
        },
      });
      return new Store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()] }), "postgres", new ChangeFeed({ connectionString: url }, pool));
    }
    const path = url.startsWith("sqlite:") ? url.slice("sqlite:".length).replace(/^\/\//, "") : url;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    let database: BetterSqlite3.Database;
    try {
      database = new BetterSqlite3(path);
    } catch (error) {
      throw new StoreError(`cannot open the SQLite database ${path}: ${(error as Error).message}`, { cause: error });
    }
    database.pragma("journal_mode = WAL");
    database.pragma("synchronous = NORMAL");
    database.pragma("busy_timeout = 10000");
    return new Store(new Kysely<Database>({ dialect: new SqliteDialect({ database }), plugins: [new CamelCasePlugin()] }), "sqlite");
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider, migrationTableName: "capstan_migrations", migrationLockTableName: "capstan_migrations_lock" });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
  }

  /** Runs `work` in one transaction with repositories bound to it. */
  async transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(repositories(trx, this.dialect)));
  }

  async close(): Promise<void> {
    await this.changes?.close();
    await this.db.destroy();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, "//$1:***@");
}
