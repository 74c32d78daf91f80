/** Task instances: one with its attempts, clear (with or without downstream), mark, outputs, and reading a try's log. */
import { readLogChunk } from "../logs/index.js";
import { readSparkUiUrl, readYarnApplicationId, readYarnTarget, yarnApplicationUrl, yarnTrackingUrl } from "../spark/index.js";
import { attemptView, taskView, type LogChunk, type TaskDetail, type TaskView } from "./views.js";
import { NotFoundError } from "../scheduler/index.js";
import { ACTIVE_ATTEMPT_STATES, type Attempt, type TaskInstance } from "../store/index.js";
import type { OperationsContext } from "./context.js";
import { redactTaskFields, redactValues } from "./redact-values.js";

export function noTask(runId: string, taskId: string): NotFoundError {
  return new NotFoundError(`no task ${JSON.stringify(taskId)} in run ${JSON.stringify(runId)}`);
}

/** The task instance, or NotFoundError. */
export async function findTask(ctx: OperationsContext, runId: string, taskId: string): Promise<TaskInstance> {
  const ti = await ctx.store.tasks.get({ runId, taskId });
  if (!ti) throw noTask(runId, taskId);
  return ti;
}

/** A try's attempt (undefined for try 0, which has not started). */
export async function attemptOf(ctx: OperationsContext, ti: TaskInstance, tryNumber: number): Promise<Attempt | undefined> {
  return tryNumber > 0 ? ctx.store.attempts.get({ runId: ti.runId, taskId: ti.taskId, tryNumber }) : undefined;
}

/** A task instance with its attempts, where it sits in the pinned version, failure reasons and outputs masked. */
export async function taskDetail(ctx: OperationsContext, runId: string, taskId: string): Promise<TaskDetail> {
  const ti = await findTask(ctx, runId, taskId);
  const redact = (text: string) => ctx.secrets.redact(text);
  const version = await ctx.store.pipelines.getVersion(ti.pipelineId, (await ctx.store.runs.get(ti.runId))?.version ?? "");
  const spec = version ? (JSON.parse(version.spec) as { tasks?: Record<string, { kind?: string; dependsOn?: string[] }> }).tasks?.[ti.taskId] : undefined;
  const stored = await ctx.store.attempts.listByTask(ti);
  const attempts = await redactValues(stored.map(attemptView), redact);
  // A running local Spark job's UI, from its driver log (gone with the job, so shown only while it runs).
  const current = stored.find((a) => a.tryNumber === ti.tryNumber);
  const sparkUi = spec?.kind === "spark" && current?.logPath && ACTIVE_ATTEMPT_STATES.includes(current.state) ? readSparkUiUrl(current.logPath) : undefined;
  // A YARN attempt's application: its id from spark-submit's log, its page on the connection's ResourceManager.
  const yarn = spec?.kind === "spark" && current?.attemptDir ? readYarnTarget(current.attemptDir) : null;
  const yarnId = yarn !== null && current?.logPath ? readYarnApplicationId(current.logPath) : undefined;
  const [view] = await redactTaskFields([taskView(ti)], redact);
  return {
    run: ti.runId,
    task: ti.taskId,
    pipeline: ti.pipelineId,
    ...(view ?? taskView(ti)),
    kind: spec?.kind ?? null,
    depends_on: spec?.dependsOn ?? [],
    pool: ti.pool,
    max_tries: ti.maxTries,
    has_notebook: typeof ti.outputs?.notebook === "string",
    ...(sparkUi !== undefined ? { spark_ui_url: sparkUi } : {}),
    ...(yarn !== null && yarnId !== undefined ? { yarn_application: { id: yarnId, url: yarnApplicationUrl(yarn, yarnId), spark_ui_url: yarnTrackingUrl(yarn, yarnId) } } : {}),
    attempts,
  };
}

/** The outputs the task wrote ($CAPSTAN_OUTPUT), masked, or null. */
export async function taskOutputs(ctx: OperationsContext, runId: string, taskId: string): Promise<{ run: string; task: string; outputs: Record<string, unknown> | null }> {
  const ti = await findTask(ctx, runId, taskId);
  const [outputs] = await redactValues([ti.outputs], (text) => ctx.secrets.redact(text));
  return { run: ti.runId, task: ti.taskId, outputs: outputs ?? null };
}

/** Clears a task so it runs again with fresh retries (and everything after it with `downstream`); the ids cleared. */
export async function clearTask(ctx: OperationsContext, runId: string, taskId: string, downstream: boolean): Promise<string[]> {
  return (await ctx.scheduler()).clear(runId, [taskId], { downstream });
}

/** Sets a task to success or failed by hand; a running attempt is killed. */
export async function markTask(ctx: OperationsContext, runId: string, taskId: string, state: "success" | "failed"): Promise<TaskView> {
  const ti = await (await ctx.scheduler()).mark(runId, taskId, state);
  const [view] = await redactTaskFields([taskView(ti)], (text) => ctx.secrets.redact(text));
  return view ?? taskView(ti);
}

/**
 * Up to 1 MiB of a try's log (default: the latest try) from a byte offset (negative: from the end),
 * every byte of a secret value masked; while the attempt runs, a tail that may start a secret waits
 * for the next read.
 */
export async function readTaskLog(ctx: OperationsContext, runId: string, taskId: string, options: { try?: number | undefined; offset?: number | undefined }): Promise<LogChunk> {
  const ti = await findTask(ctx, runId, taskId);
  const tryNumber = options.try ?? ti.tryNumber;
  const attempt = await attemptOf(ctx, ti, tryNumber);
  if (!attempt?.logPath) return { try: tryNumber, text: "", next: 0, size: 0, done: tryNumber > 0 && tryNumber < ti.tryNumber };
  const live = ACTIVE_ATTEMPT_STATES.includes(attempt.state);
  const chunk = await readLogChunk(attempt.logPath, options.offset ?? 0, { mask: await ctx.secrets.mask(), live });
  return { try: tryNumber, text: chunk.text, next: chunk.next, size: chunk.size, done: !live && chunk.next >= chunk.size };
}
