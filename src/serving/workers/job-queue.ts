/**
 * A model version's bounded job queue and its batching: one worker at a time gathers a batch (as
 * TorchServe's workers take turns on the queue): it waits for a first job, then takes up to
 * batch_size − 1 more that arrive within max_batch_delay. A full queue refuses new jobs.
 */
import type { InferenceJob } from "./inference-job.js";

/** FIFO of jobs with a capacity, handing out batches. */
export class JobQueue {
  private readonly jobs: InferenceJob[] = [];
  private arrival: (() => void) | undefined;
  private gathering: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.jobs.length;
  }

  get remainingCapacity(): number {
    return Math.max(0, this.capacity - this.jobs.length);
  }

  /** Adds a job; false when the queue is full or closed. */
  offer(job: InferenceJob): boolean {
    if (this.closed || this.jobs.length >= this.capacity) return false;
    this.jobs.push(job);
    const wake = this.arrival;
    this.arrival = undefined;
    wake?.();
    return true;
  }

  /** Puts a job back at the head (its worker died before it was sent). */
  returnToHead(jobs: InferenceJob[]): void {
    this.jobs.unshift(...jobs);
    const wake = this.arrival;
    this.arrival = undefined;
    wake?.();
  }

  /** Takes the next batch; resolves with [] once the queue is closed or `stopped()` is true. */
  takeBatch(batchSize: number, maxBatchDelayMs: number, stopped: () => boolean): Promise<InferenceJob[]> {
    const turn = this.gathering.then(() => this.gather(batchSize, maxBatchDelayMs, stopped));
    this.gathering = turn.then(() => undefined, () => undefined);
    return turn;
  }

  /** Empties the queue and refuses further jobs; returns what was waiting. */
  close(): InferenceJob[] {
    this.closed = true;
    const left = this.jobs.splice(0);
    const wake = this.arrival;
    this.arrival = undefined;
    wake?.();
    return left;
  }

  /** Wakes a gathering worker so it can notice it was stopped. */
  nudge(): void {
    const wake = this.arrival;
    this.arrival = undefined;
    wake?.();
  }

  private async gather(batchSize: number, maxBatchDelayMs: number, stopped: () => boolean): Promise<InferenceJob[]> {
    while (this.jobs.length === 0) {
      if (this.closed || stopped()) return [];
      await this.waitForArrival(undefined);
    }
    if (stopped()) return [];
    const batch = this.jobs.splice(0, batchSize);
    if (batch.length < batchSize && maxBatchDelayMs > 0) {
      const deadline = Date.now() + maxBatchDelayMs;
      while (batch.length < batchSize && !this.closed) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        if (this.jobs.length === 0) await this.waitForArrival(left);
        batch.push(...this.jobs.splice(0, batchSize - batch.length));
      }
    }
    return batch;
  }

  private waitForArrival(timeoutMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        if (this.arrival === done) this.arrival = undefined;
        resolve();
      }, timeoutMs);
      const done = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.arrival = done;
    });
  }
}
