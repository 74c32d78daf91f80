/**
 * Timeouts of running attempts: one clock timer per attempt with `timeout:`, which records the kill
 * reason with the attempt (so it survives a restart) and then asks the executor to kill it.
 */
import type { ClockTimer } from "../clock/index.js";
import { attemptKey, type AttemptRef, type Executor } from "../executors/executor.js";
import { formatDuration, type TaskSpec } from "../pipelines/index.js";
import type { SchedulerContext } from "./scheduler-context.js";

export class AttemptTimeouts {
  readonly #ctx: SchedulerContext;
  readonly #timers = new Map<string, ClockTimer>();

  constructor(ctx: SchedulerContext) {
    this.#ctx = ctx;
  }

  /** Arms the attempt's timeout, counted from when it was queued; tasks without `timeout:` get none. */
  arm(ref: AttemptRef, executor: Executor, task: TaskSpec, startedAt: number): void {
    if (task.timeoutMs === null) return;
    const key = attemptKey(ref);
    this.#timers.get(key)?.clear();
    const timer = this.#ctx.clock.setTimer(startedAt + task.timeoutMs, () => {
      this.#timers.delete(key);
      this.#ctx.track(this.#kill(executor, ref, `timed out after ${formatDuration(task.timeoutMs ?? 0)}`));
    });
    this.#timers.set(key, timer);
  }

  /** The attempt ended: its timeout is not needed any more. */
  clear(ref: AttemptRef): void {
    const key = attemptKey(ref);
    this.#timers.get(key)?.clear();
    this.#timers.delete(key);
  }

  /** Clears every timer (the scheduler stops; the next one re-arms them at adoption). */
  stop(): void {
    for (const timer of this.#timers.values()) timer.clear();
  }

  /** Records why an attempt is being killed (so the reason survives a restart), then kills it. */
  async #kill(executor: Executor, ref: AttemptRef, reason: string): Promise<void> {
    const recorded = await this.#ctx.store.attempts.update(ref, ["launching", "running"], { killReason: reason });
    if (!recorded) return;
    this.#ctx.log.info({ run: ref.runId, task: ref.taskId, try: ref.tryNumber, reason }, "killing attempt");
    await executor.kill(ref, reason);
  }
}
