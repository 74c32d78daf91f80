/**
 * The scheduler's commands, called by the API and the CLI: trigger and backfill (new runs), cancel,
 * clear and mark. Each is one transaction; an attempt it stops has the reason recorded with it
 * before the executor is asked to kill it, so the kill survives a restart.
 */
import { resolveParams } from "../pipelines/index.js";
import { isFinishedRun, isFinishedTask, type Attempt, type Run, type TaskInstance } from "../store/index.js";
import { ConflictError, InvalidRequestError, NotFoundError } from "./errors.js";
import type { PipelineVersion } from "./pipeline-versions.js";
import { buildRun, intervalRunKey, manualDataInterval, type RunRequest } from "./run-factory.js";
import type { ExecutorRegistry, SchedulerContext } from "./scheduler-context.js";
import type { ScheduleTimers } from "./schedule-timers.js";
import { moveRun, moveTask, type StateChange } from "./task-state.js";
import { intervalsBetween } from "./timetable.js";
import { finishedRunState } from "./trigger-rules.js";

/** Options of a manual trigger. */
export interface TriggerOptions {
  params?: Record<string, unknown>;
  logicalDate?: number;
  trigger?: "manual" | "api" | "kafka";
  createdBy?: string | null;
  note?: string | null;
  /** A key of the caller's making (a Kafka batch: topic, partition, offset range): a second run with it is refused. */
  runKey?: string;
  /** Params set by the trigger itself (a Kafka batch's messages), beside the pipeline's declared params. */
  triggerParams?: Record<string, unknown>;
  /** A run id of the caller's making (a large Kafka batch's, from its key: its file is in the run's artifacts folder before the run is stored). */
  runId?: string;
}

export interface BackfillResult {
  created: Run[];
  /** Logical dates (ISO) that already had a run and were left alone. */
  existing: string[];
}

export interface SchedulerCommandsOptions {
  executors: ExecutorRegistry;
  /** A cancelled run frees a place under `max_active_runs`: its pipeline's schedule is checked again. */
  schedules: ScheduleTimers;
}

export class SchedulerCommands {
  readonly #ctx: SchedulerContext;
  readonly #options: SchedulerCommandsOptions;

  constructor(ctx: SchedulerContext, options: SchedulerCommandsOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Creates a manual run with typed params; throws ParamError or NotFoundError. */
  async trigger(pipelineId: string, options: TriggerOptions = {}): Promise<Run> {
    const { versions, clock } = this.#ctx;
    const version = versions.current(pipelineId);
    if (!version) throw new NotFoundError(`no pipeline ${JSON.stringify(pipelineId)} is loaded; known: ${versions.source.list().map((p) => p.spec.id).join(", ") || "none"}`);
    const params = { ...resolveParams(version.spec.params, options.params ?? {}), ...options.triggerParams };
    const logicalDate = options.logicalDate ?? clock.now();
    const request: RunRequest = {
      ...(options.runKey !== undefined ? { runKey: options.runKey } : {}),
      ...(options.runId !== undefined ? { runId: options.runId } : {}),
      trigger: options.trigger ?? "manual",
      logicalDate,
      interval: manualDataInterval(version, logicalDate),
      params,
      createdBy: options.createdBy ?? null,
      note: options.note ?? null,
    };
    const run = await this.#createRun(version, request);
    if (!run) throw new ConflictError("a run with the same key exists");
    return run;
  }

  /** Creates runs for every data interval whose logical date lies in [from, to]. */
  async backfill(pipelineId: string, from: number, to: number, options: { params?: Record<string, unknown>; createdBy?: string | null } = {}): Promise<BackfillResult> {
    const version = this.#ctx.versions.current(pipelineId);
    if (!version) throw new NotFoundError(`no pipeline ${JSON.stringify(pipelineId)} is loaded`);
    const { spec } = version;
    if (!spec.schedule || spec.startDate === null) throw new InvalidRequestError(`pipeline ${pipelineId} has no schedule, so it has no data intervals to backfill; trigger runs with a logical date instead`);
    if (!(from <= to)) throw new InvalidRequestError("the backfill range is empty: --from must not be after --to");
    const params = resolveParams(spec.params, options.params ?? {});
    const intervals = intervalsBetween(spec.schedule, spec.timezone, spec.startDate, from, to);
    if (intervals.length === 0) throw new InvalidRequestError(`no data interval of ${spec.schedule.text} (from ${new Date(spec.startDate).toISOString()}) starts between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`);
    const result: BackfillResult = { created: [], existing: [] };
    for (const interval of intervals) {
      const run = await this.#createRun(version, { trigger: "backfill", runKey: intervalRunKey(interval), logicalDate: interval.start, interval, params, createdBy: options.createdBy ?? null });
      if (run) result.created.push(run);
      else result.existing.push(new Date(interval.start).toISOString());
    }
    return result;
  }

  /** Cancels a run: its unfinished tasks are cancelled and running attempts killed. */
  async cancel(runId: string): Promise<Run> {
    const run = await this.#requireRun(runId);
    if (isFinishedRun(run.state)) throw new ConflictError(`run ${runId} has already finished (${run.state})`);
    const now = this.#ctx.clock.now();
    const changes: StateChange[] = [];
    const toKill: Attempt[] = [];
    await this.#ctx.store.transaction(async (tx) => {
      if (!(await moveRun(tx, run, ["queued", "running"], "cancelled", { endedAt: now }, now, changes))) return;
      for (const ti of await tx.tasks.listByRun(runId)) {
        if (isFinishedTask(ti.state)) continue;
        if (ti.state === "queued" || ti.state === "running") {
          const attempt = await tx.attempts.get({ ...ti, tryNumber: ti.tryNumber });
          if (attempt && (await tx.attempts.update(attempt, ["launching", "running"], { killReason: "cancelled" }))) toKill.push(attempt);
        }
        await moveTask(tx, ti, [ti.state], "cancelled", { endedAt: now, reason: "the run was cancelled" }, now, changes);
      }
    });
    this.#ctx.emit(changes);
    await this.#killAll(toKill, "cancelled");
    this.#ctx.runsChanged();
    this.#ctx.track(this.#options.schedules.check(run.pipelineId));
    this.#ctx.wake();
    return this.#requireRun(runId);
  }

  /**
   * Clears task instances so they run again (with fresh retries), optionally with everything
   * downstream of them. A finished run is queued again.
   */
  async clear(runId: string, taskIds: readonly string[], options: { downstream?: boolean } = {}): Promise<string[]> {
    const run = await this.#requireRun(runId);
    const version = await this.#ctx.versions.get(run.pipelineId, run.version);
    for (const id of taskIds) {
      if (!version.spec.tasks[id]) throw new NotFoundError(`run ${runId} has no task ${JSON.stringify(id)}; tasks: ${version.spec.taskOrder.join(", ")}`);
    }
    const selected = new Set(taskIds);
    if (options.downstream) for (const id of taskIds) for (const d of version.dag.descendants(id)) selected.add(d);
    const now = this.#ctx.clock.now();
    const changes: StateChange[] = [];
    const toKill: Attempt[] = [];
    await this.#ctx.store.transaction(async (tx) => {
      for (const ti of await tx.tasks.listByRun(runId, [...selected])) {
        if (ti.state === "none") continue;
        if (ti.state === "queued" || ti.state === "running") {
          const attempt = await tx.attempts.get({ ...ti, tryNumber: ti.tryNumber });
          if (attempt && (await tx.attempts.update(attempt, ["launching", "running"], { killReason: "cleared" }))) toKill.push(attempt);
        }
        const task = version.spec.tasks[ti.taskId];
        await moveTask(tx, ti, [ti.state], "none", { maxTries: ti.tryNumber + (task?.retries ?? 0) + 1, reason: null, outputs: null, nextRetryAt: null, scheduledAt: null, queuedAt: null, startedAt: null, endedAt: null }, now, changes);
      }
      if (isFinishedRun(run.state)) await moveRun(tx, run, [run.state], "queued", { endedAt: null }, now, changes);
    });
    this.#ctx.emit(changes);
    await this.#killAll(toKill, "cleared");
    this.#ctx.markDirty(runId, selected);
    this.#ctx.runsChanged();
    this.#ctx.wake();
    return [...selected];
  }

  /** Sets a task instance to success or failed by hand; a running attempt is killed. */
  async mark(runId: string, taskId: string, state: "success" | "failed"): Promise<TaskInstance> {
    const { store, versions } = this.#ctx;
    const run = await this.#requireRun(runId);
    const ti = await store.tasks.get({ runId, taskId });
    if (!ti) throw new NotFoundError(`run ${runId} has no task ${JSON.stringify(taskId)}`);
    if (ti.state === state) return ti;
    const now = this.#ctx.clock.now();
    const changes: StateChange[] = [];
    const toKill: Attempt[] = [];
    await store.transaction(async (tx) => {
      if (ti.state === "queued" || ti.state === "running") {
        const attempt = await tx.attempts.get({ ...ti, tryNumber: ti.tryNumber });
        if (attempt && (await tx.attempts.update(attempt, ["launching", "running"], { killReason: `marked ${state}` }))) toKill.push(attempt);
      }
      await moveTask(tx, ti, [ti.state], state, { endedAt: now, reason: `marked ${state} by hand`, nextRetryAt: null }, now, changes);
      if (isFinishedRun(run.state) && run.state !== "cancelled") {
        const version = await versions.get(run.pipelineId, run.version);
        const states = new Map((await tx.tasks.listByRun(runId)).map((t) => [t.taskId, t.state]));
        if ([...states.values()].every(isFinishedTask)) {
          const final = finishedRunState(version.dag.leaves().map((t) => states.get(t) ?? "none"));
          if (final !== run.state) await moveRun(tx, run, [run.state], final, { endedAt: now }, now, changes);
        }
      }
    });
    this.#ctx.emit(changes);
    await this.#killAll(toKill, `marked ${state}`);
    this.#ctx.markDirty(runId, [taskId]);
    this.#ctx.wake();
    const updated = await store.tasks.get({ runId, taskId });
    if (!updated) throw new NotFoundError(`task ${taskId} vanished`);
    return updated;
  }

  /** Inserts a new run with its task instances; undefined when a run with its key exists. */
  async #createRun(version: PipelineVersion, request: RunRequest): Promise<Run | undefined> {
    const { store, clock } = this.#ctx;
    const { run, tasks } = buildRun(version, request, clock.now());
    const created = await store.transaction((tx) => tx.runs.insert(run, tasks));
    if (!created) return undefined;
    this.#ctx.emit([{ kind: "run", runId: run.id, pipelineId: run.pipelineId, state: "queued" }]);
    this.#ctx.runsChanged();
    this.#ctx.wake();
    return store.runs.get(run.id);
  }

  async #killAll(attempts: readonly Attempt[], reason: string): Promise<void> {
    await Promise.all(
      attempts.map(async (attempt) => {
        const executor = this.#options.executors.get(attempt.executor);
        if (!executor) return;
        try {
          await executor.kill(attempt, reason);
        } catch (error) {
          this.#ctx.log.error({ err: error, run: attempt.runId, task: attempt.taskId }, "could not kill attempt");
        }
      }),
    );
  }

  async #requireRun(runId: string): Promise<Run> {
    const run = await this.#ctx.store.runs.get(runId);
    if (!run) throw new NotFoundError(`no run ${JSON.stringify(runId)}`);
    return run;
  }
}
