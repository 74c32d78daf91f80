/**
 * How the end of an attempt is recorded: the attempt row's final state, and the task instance's
 * move to success, skipped, up_for_retry (the retry policy decides) or failed, in one transaction.
 * A kill asked for by a command wins over the exit status; a timeout is a failure the retry policy
 * may retry.
 */
import type { AttemptEnd, AttemptRef } from "../executors/executor.js";
import { retryDelayMs } from "./retry-policy.js";
import type { AttemptTimeouts } from "./attempt-timeouts.js";
import type { ModelRegistrar, PreparedRegistration } from "./model-registrar.js";
import type { RetryTimer } from "./retry-timer.js";
import type { SchedulerContext } from "./scheduler-context.js";
import type { RecentTaskEnds, SchedulerObserver } from "./scheduler-observer.js";
import { moveTask, type StateChange } from "./task-state.js";

const TERMINAL_ATTEMPT_FOR: Record<AttemptEnd["outcome"], "success" | "failed" | "skipped" | "lost"> = {
  success: "success",
  failed: "failed",
  skipped: "skipped",
  lost: "lost",
};

export interface AttemptEndsOptions {
  timeouts: AttemptTimeouts;
  retries: RetryTimer;
  /** Ends of tasks, for the dependent-hop latency of what follows them. */
  recentEnds: RecentTaskEnds;
  observer: SchedulerObserver | undefined;
  /** Carries out `register_model:` of tasks that succeed. */
  models: ModelRegistrar | undefined;
}

export class AttemptEnds {
  readonly #ctx: SchedulerContext;
  readonly #options: AttemptEndsOptions;

  constructor(ctx: SchedulerContext, options: AttemptEndsOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Records how an attempt ended; an attempt that already ended (or was never recorded) is left alone. */
  async record(executorName: string, ref: AttemptRef, end: AttemptEnd): Promise<void> {
    const { store, clock, versions, log } = this.#ctx;
    this.#options.timeouts.clear(ref);
    const attempt = await store.attempts.get(ref);
    if (!attempt || (attempt.state !== "launching" && attempt.state !== "running")) return;
    const run = await store.runs.get(ref.runId);
    if (!run) return;
    const version = await versions.get(run.pipelineId, run.version);
    const task = version.spec.tasks[ref.taskId];
    let outcome = end.outcome;
    let reason = end.reason;
    // A timeout is a failure like any other and the retry policy decides (as in Airflow); an attempt
    // killed because the run was cancelled or the task cleared or marked is never retried.
    const retryable = end.retryable && (attempt.killReason === null || attempt.killReason.startsWith("timed out"));
    if (attempt.killReason !== null && outcome !== "success") {
      outcome = "failed";
      reason = end.cleanup === undefined ? attempt.killReason : `${attempt.killReason}; ${end.cleanup}`;
    } else if (outcome === "failed" && end.exitCode !== null && task?.skipOnExitCodes.includes(end.exitCode)) {
      outcome = "skipped";
      reason = `exit code ${end.exitCode} means skipped (skip_on_exit_code)`;
    }
    // A declared model registration is part of the task: when it cannot be done, the task fails with the reason.
    let registration: PreparedRegistration | undefined;
    if (outcome === "success" && task?.registerModel !== undefined && this.#options.models !== undefined) {
      registration = await this.#options.models.prepare({ run, pipeline: version, task, outputs: end.outputs ?? {} });
      if (!registration.ok) {
        outcome = "failed";
        reason = registration.reason;
      }
    }
    const now = clock.now();
    const changes: StateChange[] = [];
    let retryAt: number | null = null;
    await store.transaction(async (tx) => {
      const ended = await tx.attempts.update(ref, ["launching", "running"], {
        state: TERMINAL_ATTEMPT_FOR[outcome],
        endedAt: now,
        exitCode: end.exitCode,
        reason,
      });
      if (!ended) return;
      const ti = await tx.tasks.get(ref);
      if (ti?.tryNumber !== ref.tryNumber || (ti.state !== "queued" && ti.state !== "running")) return;
      const tiKey = { runId: ref.runId, taskId: ref.taskId, pipelineId: run.pipelineId };
      const refused = outcome === "success" && registration?.ok === true ? await registration.record(tx, now) : undefined;
      if (refused !== undefined) {
        outcome = "failed";
        reason = refused;
        await tx.attempts.update(ref, ["success"], { state: "failed", reason });
      }
      if (outcome === "success") {
        await moveTask(tx, tiKey, [ti.state], "success", { endedAt: now, outputs: end.outputs ?? {}, reason: null }, now, changes);
      } else if (outcome === "skipped") {
        await moveTask(tx, tiKey, [ti.state], "skipped", { endedAt: now, reason }, now, changes);
      } else if (retryable && task && ti.tryNumber < ti.maxTries) {
        retryAt = now + retryDelayMs(task, ti.tryNumber);
        await moveTask(tx, tiKey, [ti.state], "up_for_retry", { nextRetryAt: retryAt, reason, outputs: end.outputs }, now, changes);
      } else {
        // Outputs written before a failure (metrics of a failed evaluation, say) are kept.
        await moveTask(tx, tiKey, [ti.state], "failed", { endedAt: now, reason, outputs: end.outputs }, now, changes);
      }
    });
    this.#ctx.emit(changes);
    if (outcome === "success" || outcome === "skipped") this.#options.recentEnds.ended(ref.runId, ref.taskId, now);
    this.#options.observer?.attemptEnded(executorName, outcome, now - attempt.startedAt);
    log.info({ run: ref.runId, task: ref.taskId, try: ref.tryNumber, executor: executorName, outcome, reason }, "attempt ended");
    if (retryAt !== null) await this.#options.retries.arm();
    this.#ctx.markDirty(ref.runId, [ref.taskId]);
    this.#ctx.wake();
  }
}
