/**
 * Time as a dependency: the scheduler reads the time and sets timers only through a Clock,
 * so retry delays, timeouts and cron ticks are tested with a fake clock instead of sleeping.
 */

/** A timer set on a clock; cancel it with `clear()`. */
export interface ClockTimer {
  clear(): void;
}

/** The source of time and timers for scheduling code. */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
  /** Calls `callback` once the clock reaches `atMs` (at once if it already has). */
  setTimer(atMs: number, callback: () => void): ClockTimer;
}

/** The largest delay Node's setTimeout accepts; longer waits are re-armed in steps. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** The wall clock, with timers that do not keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(atMs, callback) {
    let handle: NodeJS.Timeout | undefined;
    let cleared = false;
    const arm = (): void => {
      const delay = Math.max(0, atMs - Date.now());
      handle = setTimeout(() => {
        if (cleared) return;
        if (Date.now() < atMs) {
          arm();
          return;
        }
        callback();
      }, Math.min(delay, MAX_TIMEOUT_MS));
      handle.unref();
    };
    arm();
    return {
      clear() {
        cleared = true;
        if (handle) clearTimeout(handle);
      },
    };
  },
};
