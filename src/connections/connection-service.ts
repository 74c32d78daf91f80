/**
 * Team connections: checked against their kind before they are stored, listed with their secret
 * references (never a secret's value), resolved with the values only for a task's environment or
 * a connection test, in this process.
 */
import { CapstanError } from "../errors/index.js";
import type { SecretService } from "../secrets/index.js";
import type { StoredConnection, Store } from "../store/index.js";
import {
  CONNECTION_KINDS,
  CONNECTION_NAME,
  CONNECTION_NAME_RULE,
  CONNECTION_SECRET_FIELDS,
  CONNECTION_SETTINGS,
  connectionVariable,
  parseSecretRef,
  type ConnectionKind,
  type ConnectionSettings,
} from "./connection-kinds.js";
import { hadoopClientConf, type HadoopClientConf } from "./hadoop-conf.js";

/** A connection as callers see it: secret fields as references only. */
export interface ConnectionRecord {
  team: string;
  name: string;
  kind: ConnectionKind;
  description: string | null;
  settings: ConnectionSettings;
  /** Credential field → "secret-name/key". */
  secrets: Record<string, string>;
  updatedAt: number;
}

/** What a caller sends to create or replace a connection. */
export interface ConnectionSpec {
  kind: string;
  description?: string | undefined;
  settings: Record<string, unknown>;
  secrets?: Record<string, string> | undefined;
}

/** A connection with its secret values, for a test or a task's environment in this process. */
export interface ResolvedConnection extends ConnectionRecord {
  secretValues: Record<string, string>;
}

export class ConnectionError extends CapstanError {
  override readonly name = "ConnectionError";
  constructor(message: string, details?: Record<string, unknown>) {
    super("invalid", "invalid_connection", message, details ? { details } : undefined);
  }
}

export class ConnectionNotFoundError extends CapstanError {
  override readonly name = "ConnectionNotFoundError";
  constructor(team: string, name: string, known: readonly string[]) {
    super("not_found", "connection_not_found", `team ${team} has no connection ${JSON.stringify(name)}; its connections: ${known.join(", ") || "none"}`);
  }
}

/** What a task's connections give it: variables, credentials, and the Hadoop configuration of its first webhdfs connection. */
export interface TaskConnectionEnvironment {
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  /** Written by the scheduler into the attempt's folder as HADOOP_CONF_DIR (hadoop-conf.ts). */
  hadoop?: HadoopClientConf;
}

export class ConnectionService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretService,
    private readonly now: () => number = Date.now,
  ) {}

  async list(team?: string): Promise<ConnectionRecord[]> {
    return (await this.store.connections.list(team)).map(toRecord);
  }

  async get(team: string, name: string): Promise<ConnectionRecord> {
    const stored = await this.store.connections.get(team, name);
    if (!stored) throw new ConnectionNotFoundError(team, name, (await this.store.connections.list(team)).map((c) => c.name));
    return toRecord(stored);
  }

  /** Checks `spec` against its kind and that each secret reference names a key of a secret of the team, then stores it. */
  async set(team: string, name: string, spec: ConnectionSpec): Promise<ConnectionRecord> {
    if (!CONNECTION_NAME.test(name)) throw new ConnectionError(`connection name ${JSON.stringify(name)}: ${CONNECTION_NAME_RULE}`, { field: "name" });
    if (!(CONNECTION_KINDS as readonly string[]).includes(spec.kind))
      throw new ConnectionError(`connection ${name}: kind ${JSON.stringify(spec.kind)} is not known; accepted: ${CONNECTION_KINDS.join(", ")}`, { field: "kind" });
    const kind = spec.kind as ConnectionKind;
    const parsed = CONNECTION_SETTINGS[kind].safeParse(spec.settings);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = ["settings", ...(issue?.path ?? []).map(String)].join(".");
      const accepted = Object.keys(CONNECTION_SETTINGS[kind].shape).join(", ");
      throw new ConnectionError(`${kind} connection ${name}: ${field}: ${issue?.message ?? "invalid"} (settings of ${kind}: ${accepted})`, { field });
    }
    const refs = spec.secrets ?? {};
    const allowed = CONNECTION_SECRET_FIELDS[kind];
    const stored = new Map((await this.store.secrets.list(team)).map((s) => [s.name, s.keys]));
    for (const [field, text] of Object.entries(refs)) {
      if (!allowed.includes(field))
        throw new ConnectionError(`${kind} connection ${name}: secrets.${field} is not a credential of ${kind}; accepted: ${allowed.join(", ") || "none"}`, { field: `secrets.${field}` });
      const ref = parseSecretRef(text);
      if (!ref) throw new ConnectionError(`${kind} connection ${name}: secrets.${field}: ${JSON.stringify(text)} is not a secret reference; write "secret-name/key"`, { field: `secrets.${field}` });
      const keys = stored.get(ref.secret);
      if (!keys)
        throw new ConnectionError(`${kind} connection ${name}: secrets.${field}: team ${team} has no secret ${JSON.stringify(ref.secret)}; its secrets: ${[...stored.keys()].join(", ") || "none"}`, {
          field: `secrets.${field}`,
        });
      if (!keys.includes(ref.key))
        throw new ConnectionError(`${kind} connection ${name}: secrets.${field}: secret ${ref.secret} has no key ${JSON.stringify(ref.key)}; its keys: ${keys.join(", ")}`, { field: `secrets.${field}` });
    }
    const settings = parsed.data as ConnectionSettings;
    if (kind === "kafka" && (settings.sasl_mechanism === undefined) !== (refs.sasl_password === undefined || settings.sasl_username === undefined))
      throw new ConnectionError(`kafka connection ${name}: SASL needs sasl_mechanism, sasl_username and secrets.sasl_password together`, { field: "settings.sasl_mechanism" });
    const description = spec.description?.trim() ? spec.description.trim().slice(0, 500) : null;
    await this.store.connections.upsert({ team, name, kind, description, settings, secretRefs: refs }, this.now());
    return this.get(team, name);
  }

  async delete(team: string, name: string): Promise<void> {
    if (!(await this.store.connections.delete(team, name))) throw new ConnectionNotFoundError(team, name, (await this.store.connections.list(team)).map((c) => c.name));
  }

  /** The connection with its secret values (never returned by the API; given to tests and tasks). */
  async resolve(team: string, name: string): Promise<ResolvedConnection> {
    const record = await this.get(team, name);
    const refs = Object.fromEntries(Object.entries(record.secrets).flatMap(([field, text]) => {
      const ref = parseSecretRef(text);
      return ref ? [[`connection ${name}: secrets.${field}`, ref]] : [];
    }));
    const values = await this.secrets.resolve(team, refs);
    const secretValues = Object.fromEntries(Object.keys(record.secrets).flatMap((field) => {
      const value = values[`connection ${name}: secrets.${field}`];
      return value === undefined ? [] : [[field, value]];
    }));
    return { ...record, secretValues };
  }

  /** The environment variables of `names` for a task of `team` (see connectionVariable). */
  async environment(team: string, names: readonly string[]): Promise<Record<string, string>> {
    const { env, secretEnv } = await this.taskEnvironment(team, names);
    return { ...env, ...secretEnv };
  }

  /** The same variables split into settings (`env`) and credentials (`secretEnv`, masked in logs like secrets). */
  async taskEnvironment(team: string, names: readonly string[]): Promise<TaskConnectionEnvironment> {
    let hadoop: HadoopClientConf | undefined;
    const env: Record<string, string> = {};
    const secretEnv: Record<string, string> = {};
    /** Variable → "connection NAME field FIELD" that set it: two connections must never write one variable. */
    const setBy = new Map<string, string>();
    const claim = (name: string, field: string): string => {
      const variable = connectionVariable(name, field);
      const previous = setBy.get(variable);
      if (previous !== undefined && !previous.startsWith(`connection ${name} `))
        throw new ConnectionError(
          `connections ${[...new Set([previous.split(" ")[1], name])].join(" and ")} of one task both give ${variable} (${previous} and connection ${name} field ${field}); rename one of them`,
          { field: "connections" },
        );
      setBy.set(variable, `connection ${name} field ${field}`);
      return variable;
    };
    for (const name of new Set(names)) {
      const connection = await this.resolve(team, name);
      env[claim(name, "kind")] = connection.kind;
      for (const [field, value] of Object.entries(connection.settings)) env[claim(name, field)] = Array.isArray(value) ? value.join(",") : String(value);
      for (const [field, value] of Object.entries(connection.secretValues)) secretEnv[claim(name, field)] = value;
      if (connection.kind === "webhdfs" && hadoop === undefined) hadoop = hadoopClientConf(name, connection.settings);
    }
    if (hadoop?.user !== undefined) env.HADOOP_USER_NAME = hadoop.user;
    return { env, secretEnv, ...(hadoop === undefined ? {} : { hadoop }) };
  }
}

function toRecord(stored: StoredConnection): ConnectionRecord {
  return {
    team: stored.team,
    name: stored.name,
    kind: stored.kind as ConnectionKind,
    description: stored.description,
    settings: stored.settings as ConnectionSettings,
    secrets: stored.secretRefs,
    updatedAt: stored.updatedAt,
  };
}

/** What the scheduler resolves at launch: a task's `secrets:` and its `connections:`. */
export function taskSecretResolver(store: Store, secrets: SecretService): {
  resolve: SecretService["resolve"];
  connections(team: string, names: readonly string[]): Promise<TaskConnectionEnvironment>;
} {
  const connections = new ConnectionService(store, secrets);
  return {
    resolve: (team, refs) => secrets.resolve(team, refs),
    connections: (team, names) => connections.taskEnvironment(team, names),
  };
}
