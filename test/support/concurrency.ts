/**
 * Running a test file's slow, independent work (child processes that mostly wait) side by side:
 * a limit on how many jobs run at once that starts the most urgent waiting job first, and a lock
 * per key for jobs that must not overlap (they share a file, an object key, a port).
 */

/** Runs at most `limit` jobs at once; a waiting job with a lower priority number starts first (ties: first come). */
export function priorityLimit(limit: number): <T>(priority: number, job: () => Promise<T>) => Promise<T> {
  let running = 0;
  let arrivals = 0;
  const waiting: { priority: number; arrival: number; start: () => void }[] = [];
  const next = () => {
    if (running >= limit || waiting.length === 0) return;
    let best = 0;
    for (let i = 1; i < waiting.length; i++) {
      const a = waiting[i];
      const b = waiting[best];
      if (a && b && (a.priority < b.priority || (a.priority === b.priority && a.arrival < b.arrival))) best = i;
    }
    const [chosen] = waiting.splice(best, 1);
    running++;
    chosen?.start();
  };
  return <T>(priority: number, job: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      waiting.push({
        priority,
        arrival: arrivals++,
        start: () => {
          job()
            .then(resolve, reject)
            .finally(() => {
              running--;
              next();
            });
        },
      });
      next();
    });
}

/** Runs jobs of the same key one after another, in the order they asked; jobs of different keys do not wait for each other. */
export function keyedLock(): <T>(key: string, job: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, job: () => Promise<T>) => {
    const previous = tails.get(key) ?? Promise.resolve();
    const result = previous.then(job, job);
    const tail = result.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}

/**
 * Work started ahead of the cases that check it: each job starts now, a failure is reported by the
 * case that awaits it (never as an unhandled rejection), and `settled()` waits for every job, so a
 * file's afterAll removes nothing a job still uses.
 */
export class BackgroundWork {
  readonly #jobs: Promise<unknown>[] = [];

  start<T>(job: Promise<T>): Promise<T> {
    job.catch(() => undefined);
    this.#jobs.push(job);
    return job;
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.#jobs);
  }
}
