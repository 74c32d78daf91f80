/**
 * The JSON shapes that the CLI's --json output and the HTTP API share: a run with its tasks,
 * a pipeline summary. Keys are snake_case; times are ISO strings.
 */
import type { LoadedPipeline } from "../pipelines/index.js";
import type { Attempt, Run, Store, TaskInstance } from "../store/index.js";

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

export interface TaskView {
  state: string;
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
  state: string;
  trigger: string;
  logical_date: string;
  data_interval_start: string | null;
  data_interval_end: string | null;
  params: Record<string, unknown>;
  note: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  tasks: Record<string, TaskView>;
}

export function taskView(ti: TaskInstance): TaskView {
  return {
    state: ti.state,
    tries: ti.tryNumber,
    started_at: isoOrNull(ti.startedAt),
    ended_at: isoOrNull(ti.endedAt),
    reason: ti.reason,
    outputs: ti.outputs,
    ...(ti.state === "up_for_retry" ? { next_retry_at: isoOrNull(ti.nextRetryAt) } : {}),
  };
}

/** A run and its tasks, in task order of the pinned version where known. */
export function runView(run: Run, tasks: readonly TaskInstance[], order?: readonly string[]): RunView {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const ordered = order ? new Set(order) : undefined;
  const ids = ordered ? [...[...ordered].filter((id) => byId.has(id)), ...tasks.map((t) => t.taskId).filter((id) => !ordered.has(id))] : tasks.map((t) => t.taskId);
  return {
    id: run.id,
    pipeline: run.pipelineId,
    version: run.version,
    state: run.state,
    trigger: run.trigger,
    logical_date: new Date(run.logicalDate).toISOString(),
    data_interval_start: isoOrNull(run.dataIntervalStart),
    data_interval_end: isoOrNull(run.dataIntervalEnd),
    params: run.params,
    note: run.note,
    created_at: new Date(run.createdAt).toISOString(),
    started_at: isoOrNull(run.startedAt),
    ended_at: isoOrNull(run.endedAt),
    tasks: Object.fromEntries(ids.map((id) => [id, taskView(byId.get(id) as TaskInstance)])),
  };
}

/** Loads a run's view from the store, or undefined when there is no such run. */
export async function loadRunView(store: Store, runId: string): Promise<RunView | undefined> {
  const run = await store.runs.get(runId);
  if (!run) return undefined;
  const tasks = await store.tasks.listByRun(runId);
  const version = await store.pipelines.getVersion(run.pipelineId, run.version);
  const order = version ? (JSON.parse(version.spec) as { taskOrder?: string[] }).taskOrder : undefined;
  return runView(run, tasks, order);
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

export function attemptView(a: Attempt): AttemptView {
  return {
    try: a.tryNumber,
    state: a.state,
    executor: a.executor,
    external_id: a.externalId,
    started_at: new Date(a.startedAt).toISOString(),
    ended_at: isoOrNull(a.endedAt),
    exit_code: a.exitCode,
    reason: a.reason,
  };
}

export interface PipelineSummaryView {
  id: string;
  team: string;
  description: string | null;
  schedule: string | null;
  version: string;
  file: string;
  paused: boolean;
  tasks: number;
  last_runs: { id: string; state: string; logical_date: string }[];
}

export function pipelineSummary(loaded: LoadedPipeline, paused: boolean, lastRuns: readonly Run[]): PipelineSummaryView {
  return {
    id: loaded.spec.id,
    team: loaded.spec.team,
    description: loaded.spec.description ?? null,
    schedule: loaded.spec.schedule?.text ?? null,
    version: loaded.version,
    file: loaded.file,
    paused,
    tasks: loaded.spec.taskOrder.length,
    last_runs: lastRuns.map((r) => ({ id: r.id, state: r.state, logical_date: new Date(r.logicalDate).toISOString() })),
  };
}
