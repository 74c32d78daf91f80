/** Building new runs: ids, keys, data intervals of manual runs, and the task instances of a version. */
import { randomBytes } from "node:crypto";
import { DateTime } from "luxon";
import type { NewRun, NewTaskInstance, RunTrigger } from "../store/index.js";
import type { PipelineVersion } from "./pipeline-versions.js";
import { nextDataInterval, type DataInterval } from "./timetable.js";

/** A readable, unique run id: `<pipeline>-<logical date>-<4 random hex>`. */
export function newRunId(pipelineId: string, logicalDate: number): string {
  const stamp = DateTime.fromMillis(logicalDate, { zone: "utc" }).toFormat("yyyyMMdd'T'HHmmss");
  return `${pipelineId}-${stamp}-${randomBytes(2).toString("hex")}`;
}

/** Scheduled and backfill runs share one key per data interval, so a date never runs twice by schedule. */
export function intervalRunKey(interval: DataInterval): string {
  return `interval:${new Date(interval.start).toISOString()}`;
}

/**
 * The data interval of a manual run of a scheduled pipeline: the latest complete interval at the
 * logical date (as Airflow infers it); [date, date] for pipelines without a schedule.
 */
export function manualDataInterval(version: PipelineVersion, logicalDate: number): DataInterval {
  const { spec } = version;
  if (!spec.schedule || spec.schedule.kind === "once" || spec.startDate === null) return { start: logicalDate, end: logicalDate };
  const interval = nextDataInterval(spec.schedule, spec.timezone, { lastEnd: null, startDate: Math.min(spec.startDate, logicalDate), endDate: null, catchup: false, now: logicalDate });
  return interval ?? { start: logicalDate, end: logicalDate };
}

export interface RunRequest {
  trigger: RunTrigger;
  runKey?: string;
  /** A caller's own run id; a new readable one when absent. */
  runId?: string;
  logicalDate: number;
  interval: DataInterval;
  params: Record<string, unknown>;
  createdBy?: string | null;
  note?: string | null;
}

/** The run row and its task instance rows (all in state none). */
export function buildRun(version: PipelineVersion, request: RunRequest, now: number): { run: NewRun; tasks: NewTaskInstance[] } {
  const id = request.runId ?? newRunId(version.spec.id, request.logicalDate);
  const run: NewRun = {
    id,
    pipelineId: version.spec.id,
    version: version.version,
    runKey: request.runKey ?? `${request.trigger}:${id}`,
    trigger: request.trigger,
    state: "queued",
    logicalDate: request.logicalDate,
    dataIntervalStart: request.interval.start,
    dataIntervalEnd: request.interval.end,
    params: request.params,
    note: request.note ?? null,
    createdBy: request.createdBy ?? null,
    createdAt: now,
    startedAt: null,
    endedAt: null,
  };
  const tasks: NewTaskInstance[] = version.spec.taskOrder.map((taskId) => {
    const task = version.spec.tasks[taskId];
    if (!task) throw new Error(`task ${taskId} missing from its own pipeline version`);
    return {
      taskId,
      pipelineId: version.spec.id,
      state: "none",
      tryNumber: 0,
      maxTries: task.retries + 1,
      pool: task.pool,
      poolSlots: task.poolSlots,
      priorityWeight: task.priorityWeight,
      scheduledAt: null,
      queuedAt: null,
      startedAt: null,
      endedAt: null,
      nextRetryAt: null,
      outputs: null,
      reason: null,
    };
  });
  return { run, tasks };
}
