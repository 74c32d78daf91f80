/** A manually advanced clock for tests of time-based scheduling (retry delays, timeouts, cron ticks). */
import type { Clock, ClockTimer } from "./clock.js";

interface PendingTimer {
  atMs: number;
  seq: number;
  callback: () => void;
  cleared: boolean;
}

/** A clock that moves only when `advance` or `set` is called; due timers fire in time order. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  constructor(start: number | Date | string = "2026-01-01T00:00:00Z") {
    this.#now = typeof start === "number" ? start : new Date(start).getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimer(atMs: number, callback: () => void): ClockTimer {
    const timer: PendingTimer = { atMs, seq: this.#seq++, callback, cleared: false };
    this.#timers.push(timer);
    if (atMs <= this.#now) {
      queueMicrotask(() => this.#fireDue());
    }
    return {
      clear: () => {
        timer.cleared = true;
      },
    };
  }

  /** Moves the clock forward by `ms`, firing every timer that becomes due on the way. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** Moves the clock to `at` (never backwards), firing due timers in order. */
  set(at: number | Date | string): void {
    const target = typeof at === "number" ? at : new Date(at).getTime();
    for (;;) {
      const next = this.#nextTimer();
      if (!next || next.atMs > target) break;
      this.#now = Math.max(this.#now, next.atMs);
      this.#fire(next);
    }
    this.#now = Math.max(this.#now, target);
  }

  /** The number of timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cleared).length;
  }

  #nextTimer(): PendingTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cleared);
    let best: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (!best || t.atMs < best.atMs || (t.atMs === best.atMs && t.seq < best.seq)) best = t;
    }
    return best;
  }

  #fire(timer: PendingTimer): void {
    timer.cleared = true;
    timer.callback();
  }

  #fireDue(): void {
    for (;;) {
      const next = this.#nextTimer();
      if (!next || next.atMs > this.#now) return;
      this.#fire(next);
    }
  }
}
