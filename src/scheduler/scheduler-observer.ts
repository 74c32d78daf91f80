/**
 * What the scheduler tells an observer (the platform's metrics) about attempts, and the small
 * memory of recent task ends that turns a launch into a dependent-hop latency: the time from the end
 * of a task's last upstream to the start of the task.
 */

/** Receives attempt launches and ends as they happen; must not throw or block. */
export interface SchedulerObserver {
  /** An executor started an attempt `launchMs` after it was queued; `hopMs` when all its upstreams' ends were seen here. */
  attemptLaunched(executor: string, launchMs: number, hopMs: number | null): void;
  /** An attempt ended `durationMs` after it was queued. */
  attemptEnded(executor: string, outcome: string, durationMs: number): void;
}

/** Ends kept for hop latencies; older ones are forgotten first. */
const MAX_REMEMBERED = 20_000;

/** Remembers when tasks ended, per run, to measure the hop to their downstream tasks. */
export class RecentTaskEnds {
  readonly #ends = new Map<string, number>();

  ended(runId: string, taskId: string, at: number): void {
    const key = `${runId}\u0000${taskId}`;
    this.#ends.delete(key);
    this.#ends.set(key, at);
    if (this.#ends.size > MAX_REMEMBERED) {
      const oldest = this.#ends.keys().next().value;
      if (oldest !== undefined) this.#ends.delete(oldest);
    }
  }

  /** Time since the last of `upstream` ended, or null when a task has no upstream or one end was not seen here. */
  hop(runId: string, upstream: readonly string[], now: number): number | null {
    if (upstream.length === 0) return null;
    let last = -Infinity;
    for (const taskId of upstream) {
      const at = this.#ends.get(`${runId}\u0000${taskId}`);
      if (at === undefined) return null;
      last = Math.max(last, at);
    }
    return now - last;
  }
}
