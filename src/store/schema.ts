/** Table types of the database (camelCase here; snake_case in SQL through Kysely's CamelCasePlugin). */
import type { SandboxesTable } from "./sandbox-schema.js";
import type { ModelAliasesTable, ModelsTable, ModelVersionsTable } from "./model-schema.js";
import type { DeploymentsTable } from "./deployment-schema.js";
import type { SharesTable } from "./share-schema.js";
import type { AttemptState, RunState, RunTrigger, TaskState } from "./states.js";

export interface PipelinesTable {
  id: string;
  team: string;
  file: string;
  version: string;
  description: string | null;
  scheduleText: string | null;
  paused: number;
  /** 1 while a file defines the pipeline; 0 once the file is gone (runs and versions stay). */
  active: number;
  updatedAt: number;
}

export interface PipelineVersionsTable {
  pipelineId: string;
  version: string;
  /** The normalised spec as JSON. */
  spec: string;
  source: string;
  file: string;
  baseDir: string;
  /** The git commit the file came from (pipelines.git); null for a pipeline folder's file. */
  gitCommit: string | null;
  createdAt: number;
}

export interface LoadErrorsTable {
  file: string;
  pipelineId: string | null;
  message: string;
  /** The issues as JSON: [{ path, message, line?, column? }]. */
  issues: string;
  at: number;
}

export interface RunsTable {
  id: string;
  pipelineId: string;
  version: string;
  /** Unique per pipeline: scheduled and backfill runs key on their logical date, so two schedulers cannot both create one. */
  runKey: string;
  trigger: RunTrigger;
  state: RunState;
  logicalDate: number;
  dataIntervalStart: number | null;
  dataIntervalEnd: number | null;
  params: string;
  note: string | null;
  createdBy: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt: number;
}

export interface TaskInstancesTable {
  runId: string;
  taskId: string;
  pipelineId: string;
  state: TaskState;
  /** The number of attempts started so far; the next attempt gets tryNumber + 1. */
  tryNumber: number;
  /** The attempt number after which no retry is made. */
  maxTries: number;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  scheduledAt: number | null;
  queuedAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
  nextRetryAt: number | null;
  outputs: string | null;
  reason: string | null;
  updatedAt: number;
}

export interface AttemptsTable {
  runId: string;
  taskId: string;
  tryNumber: number;
  state: AttemptState;
  executor: string;
  /** Deterministic id in the executor: pod name, or local:<token>. */
  externalId: string;
  token: string;
  host: string;
  pid: number | null;
  /** Process start time (clock ticks since boot) to tell a reused pid apart. */
  pidStart: number | null;
  attemptDir: string | null;
  logPath: string | null;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  reason: string | null;
  /** Why the attempt was killed (timeout, cancelled, cleared), recorded before the kill. */
  killReason: string | null;
  schedulerId: string;
}

export interface PoolsTable {
  name: string;
  slots: number;
  description: string | null;
  createdAt: number;
}

/** A person who signs in, or a service account that only uses API tokens. Admins see and do everything. */
export interface UsersTable {
  username: string;
  displayName: string | null;
  /** scrypt hash (see src/auth/password.ts); null for accounts that cannot sign in with a password. */
  passwordHash: string | null;
  isAdmin: number;
  kind: "person" | "service";
  disabled: number;
  createdAt: number;
  updatedAt: number;
}

export interface TeamsTable {
  name: string;
  description: string | null;
  createdAt: number;
}

export interface TeamMembersTable {
  team: string;
  username: string;
  role: "viewer" | "editor" | "admin";
  createdAt: number;
}

/** API tokens: only the SHA-256 of the secret is stored. */
export interface ApiTokensTable {
  id: string;
  username: string;
  name: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Browser sessions: the cookie's secret is stored as SHA-256; the CSRF token is bound to the session. */
export interface SessionsTable {
  idHash: string;
  username: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
}

export interface SecretsTable {
  team: string;
  name: string;
  /** AES-256-GCM of the JSON data: base64 of iv | tag | ciphertext. */
  ciphertext: string;
  /** The data's keys as a JSON list (names only). */
  keys: string;
  createdAt: number;
  updatedAt: number;
}

/** Team connections (src/connections): settings and secret references as JSON text. */
export interface ConnectionsTable {
  team: string;
  name: string;
  kind: string;
  description: string | null;
  settings: string;
  secretRefs: string;
  createdAt: number;
  updatedAt: number;
}

export interface Database {
  connections: ConnectionsTable;
  sandboxes: SandboxesTable;
  models: ModelsTable;
  modelVersions: ModelVersionsTable;
  modelAliases: ModelAliasesTable;
  deployments: DeploymentsTable;
  shares: SharesTable;
  secrets: SecretsTable;
  users: UsersTable;
  teams: TeamsTable;
  teamMembers: TeamMembersTable;
  apiTokens: ApiTokensTable;
  sessions: SessionsTable;
  pipelines: PipelinesTable;
  pipelineVersions: PipelineVersionsTable;
  loadErrors: LoadErrorsTable;
  runs: RunsTable;
  taskInstances: TaskInstancesTable;
  attempts: AttemptsTable;
  pools: PoolsTable;
}
