/** Runs: the list with filters and paging, one run, trigger with typed params, backfill, cancel. */
import { loadRunView, runView, type RunSummary, type RunView } from "./views.js";
import { intervalsBetween, InvalidRequestError, NotFoundError } from "../scheduler/index.js";
import type { RunState, TaskInstance } from "../store/index.js";
import type { OperationsContext } from "./context.js";
import { redactRunViews } from "./redact-values.js";

/** Most runs one backfill request may create. */
export const MAX_BACKFILL_RUNS = 1000;

export interface RunListFilter {
  pipeline?: string | undefined;
  state?: RunState | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface TriggerRequest {
  /** Values of the pipeline's declared params; checked against their types by the scheduler. */
  params?: Record<string, unknown> | undefined;
  /** ISO time; default now. */
  logical_date?: string | undefined;
  note?: string | undefined;
}

/** Who started a run, for the run's record. */
export interface RunOrigin {
  trigger: "manual" | "api";
  createdBy: string | null;
}

export interface BackfillRequest {
  from: string;
  to: string;
  params?: Record<string, unknown> | undefined;
}

export function noRun(id: string): NotFoundError {
  return new NotFoundError(`no run ${JSON.stringify(id)}`);
}

const redactor = (ctx: OperationsContext) => (text: string) => ctx.secrets.redact(text);

/** A run with every task's state and tries in task order, failure reasons and outputs masked. */
export async function getRun(ctx: OperationsContext, runId: string): Promise<RunView> {
  const view = await loadRunView(ctx.store, runId);
  if (!view) throw noRun(runId);
  const [masked] = await redactRunViews([view], redactor(ctx));
  return masked ?? view;
}

/**
 * A page of runs, newest logical date first. `pipelineIds` limits the runs to those pipelines
 * (undefined: all); `summary` gives task counts per state instead of every task.
 */
export async function listRuns(ctx: OperationsContext, filter: RunListFilter, pipelineIds: readonly string[] | undefined, view: "full"): Promise<{ total: number; runs: RunView[] }>;
export async function listRuns(ctx: OperationsContext, filter: RunListFilter, pipelineIds: readonly string[] | undefined, view: "summary"): Promise<{ total: number; runs: RunSummary[] }>;
export async function listRuns(ctx: OperationsContext, filter: RunListFilter, pipelineIds: readonly string[] | undefined, view: "full" | "summary"): Promise<{ total: number; runs: RunView[] | RunSummary[] }>;
export async function listRuns(ctx: OperationsContext, filter: RunListFilter, pipelineIds: readonly string[] | undefined, view: "full" | "summary"): Promise<{ total: number; runs: RunView[] | RunSummary[] }> {
  const { store } = ctx;
  const { pipeline, state, limit = 100, offset = 0 } = filter;
  const ids = pipeline !== undefined ? (pipelineIds === undefined || pipelineIds.includes(pipeline) ? [pipeline] : []) : pipelineIds;
  const { runs, total } = await store.grid.page({ ...(ids !== undefined ? { pipelineIds: [...ids] } : {}), ...(state ? { states: [state] } : {}) }, limit, offset);
  const runIds = runs.map((r) => r.id);
  if (view === "summary") {
    const counts = await store.grid.stateCounts(runIds);
    return { total, runs: runs.map((r) => ({ ...withoutTasks(runView(r, [])), task_counts: counts.get(r.id) ?? {} })) };
  }
  const tasks = await store.grid.taskInstances(runIds);
  const byRun = new Map<string, TaskInstance[]>();
  for (const t of tasks) {
    const list = byRun.get(t.runId);
    if (list) list.push(t);
    else byRun.set(t.runId, [t]);
  }
  const orders = new Map<string, string[] | undefined>();
  for (const r of runs) if (!orders.has(r.pipelineId)) orders.set(r.pipelineId, ctx.pipelines.get(r.pipelineId)?.spec.taskOrder);
  return { total, runs: await redactRunViews(runs.map((r) => runView(r, byRun.get(r.id) ?? [], orders.get(r.pipelineId))), redactor(ctx)) };
}

/** Starts a run now; params are checked against the types the pipeline declares. */
export async function triggerRun(ctx: OperationsContext, pipelineId: string, request: TriggerRequest, origin: RunOrigin): Promise<RunView> {
  const scheduler = await ctx.scheduler();
  const run = await scheduler.trigger(pipelineId, {
    params: request.params ?? {},
    trigger: origin.trigger,
    createdBy: origin.createdBy,
    ...(request.logical_date ? { logicalDate: parseTime("logical_date", request.logical_date) } : {}),
    note: request.note ?? null,
  });
  return getRun(ctx, run.id);
}

/** Creates runs for every data interval starting in [from, to], at most MAX_BACKFILL_RUNS. */
export async function backfillRuns(ctx: OperationsContext, pipelineId: string, request: BackfillRequest, origin: Pick<RunOrigin, "createdBy">): Promise<{ created: string[]; existing: string[] }> {
  const from = parseTime("from", request.from);
  const to = parseTime("to", request.to);
  const spec = ctx.pipelines.get(pipelineId)?.spec;
  if (spec?.schedule && spec.startDate !== null && intervalsBetween(spec.schedule, spec.timezone, spec.startDate, from, to, MAX_BACKFILL_RUNS + 1).length > MAX_BACKFILL_RUNS) {
    throw new InvalidRequestError(`the range ${request.from} – ${request.to} holds more than ${MAX_BACKFILL_RUNS} data intervals of ${spec.schedule.text}; backfill it in smaller ranges`);
  }
  const result = await (await ctx.scheduler()).backfill(pipelineId, from, to, { params: request.params ?? {}, createdBy: origin.createdBy });
  return { created: result.created.map((r) => r.id), existing: result.existing };
}

/** Cancels a run: running attempts are killed, unfinished tasks cancelled. */
export async function cancelRun(ctx: OperationsContext, runId: string): Promise<RunView> {
  await (await ctx.scheduler()).cancel(runId);
  return getRun(ctx, runId);
}

function parseTime(field: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InvalidRequestError(`${field} ${JSON.stringify(text)}: expected an ISO 8601 time such as 2026-01-01T00:00:00Z`);
  return ms;
}

function withoutTasks<T extends { tasks: unknown }>(view: T): Omit<T, "tasks"> {
  const { tasks: _tasks, ...rest } = view;
  return rest;
}
