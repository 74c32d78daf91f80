/** Table types of the database (camelCase here; snake_case in SQL through Kysely's CamelCasePlugin). */
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

export interface Database {
  pipelines: PipelinesTable;
  pipelineVersions: PipelineVersionsTable;
  loadErrors: LoadErrorsTable;
  runs: RunsTable;
  taskInstances: TaskInstancesTable;
  attempts: AttemptsTable;
  pools: PoolsTable;
}
