/** The shapes the Capstan API answers with (see /api/openapi.json). */

export type RunState = "queued" | "running" | "success" | "failed" | "cancelled";
export type TaskState = "none" | "scheduled" | "queued" | "running" | "success" | "failed" | "up_for_retry" | "skipped" | "upstream_failed" | "cancelled";
export type Role = "viewer" | "editor" | "admin";

export interface Me {
  username: string;
  display_name: string | null;
  admin: boolean;
  kind: "person" | "service";
  via: "session" | "token";
  teams: { team: string; role: Role }[];
  expires_at: string | null;
  csrf_token?: string;
}

export interface RunRef {
  id: string;
  state: RunState;
  logical_date: string;
}

export interface PipelineSummary {
  id: string;
  team: string;
  description: string | null;
  schedule: string | null;
  version: string;
  file: string;
  paused: boolean;
  tasks: number;
  last_runs: RunRef[];
}

export interface LoadError {
  file: string;
  message: string;
  pipeline: string | null;
  issues: { path?: (string | number)[]; message: string; line?: number; column?: number }[];
}

export type ParamType = "string" | "number" | "integer" | "boolean" | "array" | "object";

export interface ParamSpec {
  type: ParamType;
  default?: unknown;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}

export interface TaskSpec {
  id: string;
  description?: string;
  kind: "command" | "python" | "notebook";
  dependsOn: string[];
  triggerRule: string;
  retries: number;
  pool: string;
  timeoutMs: number | null;
}

export interface PipelineSpec {
  id: string;
  description?: string;
  team: string;
  tags: string[];
  params: Record<string, ParamSpec>;
  tasks: Record<string, TaskSpec>;
  taskOrder: string[];
  maxActiveRuns: number;
}

export interface PipelineDetail extends PipelineSummary {
  spec: PipelineSpec;
  source: string;
  can_edit: boolean;
}

export interface TaskView {
  state: TaskState;
  tries: number;
  started_at: string | null;
  ended_at: string | null;
  reason: string | null;
  outputs: Record<string, unknown> | null;
  next_retry_at?: string | null;
}

export interface RunView {
  id: string;
  pipeline: string;
  version: string;
  state: RunState;
  trigger: string;
  logical_date: string;
  data_interval_start: string | null;
  data_interval_end: string | null;
  params: Record<string, unknown>;
  note: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  team?: string;
  tasks: Record<string, TaskView>;
}

export interface RunSummary extends Omit<RunView, "tasks"> {
  task_counts: Partial<Record<TaskState, number>>;
}

export interface GridRun {
  id: string;
  state: RunState;
  trigger: string;
  version: string;
  logical_date: string;
  started_at: string | null;
  ended_at: string | null;
  states: (TaskState | "")[];
  tries: number[];
}

export interface Grid {
  pipeline: string;
  total: number;
  tasks: { id: string; kind: string; depends_on: string[] }[];
  runs: GridRun[];
}

export interface AttemptView {
  try: number;
  state: string;
  executor: string;
  external_id: string;
  started_at: string;
  ended_at: string | null;
  exit_code: number | null;
  reason: string | null;
}

export interface TaskDetail extends TaskView {
  run: string;
  task: string;
  pipeline: string;
  team: string;
  kind: string | null;
  depends_on: string[];
  pool: string;
  max_tries: number;
  has_notebook: boolean;
  attempts: AttemptView[];
}

export interface Pool {
  name: string;
  slots: number;
  description: string | null;
  used: number;
}

/** A secret as the API shows it: names and keys, never values. */
export interface SecretSummary {
  team: string;
  name: string;
  keys: string[];
  updated_at: string;
}

export interface ApiToken {
  id: string;
  name: string;
  username: string;
  state: "active" | "expired" | "revoked";
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  token?: string;
}

export interface User {
  username: string;
  display_name: string | null;
  admin: boolean;
  kind: "person" | "service";
  disabled: boolean;
  has_password: boolean;
  created_at: string;
  teams: { team: string; role: Role }[];
}

export interface Team {
  name: string;
  description: string | null;
  role: Role | null;
  pipelines: string[];
  members?: { username: string; role: Role }[];
}

/** A state change streamed from /api/events. */
export interface ChangeEvent {
  kind: "run" | "task";
  pipeline: string;
  run: string;
  task?: string;
  state: string;
  at: string;
}
