/**
 * Retries: one clock timer for the earliest retry delay that is not over yet, and the release of
 * the task instances whose delay is over (up_for_retry → scheduled).
 */
import type { ClockTimer } from "../clock/index.js";
import type { SchedulerContext } from "./scheduler-context.js";
import { moveTask, type StateChange } from "./task-state.js";

export class RetryTimer {
  readonly #ctx: SchedulerContext;
  /** Called when the earliest delay is over. */
  readonly #onDue: () => void;
  #timer: { at: number; timer: ClockTimer } | undefined;

  constructor(ctx: SchedulerContext, onDue: () => void) {
    this.#ctx = ctx;
    this.#onDue = onDue;
  }

  /** Moves the task instances whose retry delay is over back to scheduled. */
  async releaseDue(): Promise<void> {
    const { store, clock } = this.#ctx;
    const due = await store.tasks.listDueRetries(clock.now());
    if (due.length === 0) return;
    const changes: StateChange[] = [];
    const now = clock.now();
    await store.transaction(async (tx) => {
      for (const ti of due) await moveTask(tx, ti, ["up_for_retry"], "scheduled", { scheduledAt: now, nextRetryAt: null }, now, changes);
    });
    this.#ctx.emit(changes);
  }

  /** Arms the timer for the earliest pending retry, unless one is armed for that time or sooner. */
  async arm(): Promise<void> {
    const at = await this.#ctx.store.tasks.nextRetryAt();
    if (at === null) return;
    if (this.#timer && this.#timer.at <= at) return;
    this.#timer?.timer.clear();
    const timer = this.#ctx.clock.setTimer(at, () => {
      this.#timer = undefined;
      this.#onDue();
    });
    this.#timer = { at, timer };
  }

  stop(): void {
    this.#timer?.timer.clear();
  }
}
