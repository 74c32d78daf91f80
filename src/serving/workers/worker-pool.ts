/**
 * The workers of one model version: each slot keeps one Python worker loaded and feeds it batches
 * from the version's queue. A worker that dies or overruns its response timeout is answered for
 * ("Worker died.") and replaced after a backoff that grows while replacements keep failing.
 */
import { unavailable } from "../errors.js";
import type { InferenceJob } from "./inference-job.js";
import { JobQueue } from "./job-queue.js";
import { ModelWorker, type WorkerLoadSpec } from "./model-worker.js";

/** Replacement delays in ms, one per consecutive failure (the last repeats). */
export const DEFAULT_BACKOFF_MS = [1000, 1000, 2000, 3000, 5000, 8000, 13000, 21000, 34000, 55000, 89000];

/** How a version's workers run. */
export interface WorkerPoolOptions {
  load: WorkerLoadSpec;
  batchSize: number;
  maxBatchDelayMs: number;
  responseTimeoutMs: number;
  startupTimeoutMs: number;
  jobQueueSize: number;
  python: string;
  log: (line: string) => void;
  /** the next GPU id for a new worker, or −1 for CPU */
  nextGpu: () => number;
  /** a unique worker id */
  nextWorkerId: () => string;
  backoffMs?: readonly number[];
  /** a worker that lived this long resets the backoff */
  stableAfterMs?: number;
}

/** A worker as `describe` shows it. */
export interface WorkerView {
  id: string;
  startTime: string;
  status: "READY" | "UNLOADING";
  memoryUsage: number;
  pid: number;
  gpu: boolean;
  gpuUsage: string;
}

interface Slot {
  wanted: boolean;
  worker: ModelWorker | undefined;
  ready: boolean;
  busy: boolean;
  wake: (() => void) | undefined;
  firstLoad: Promise<string | undefined>;
}

/** The slots and queue of one model version. */
export class WorkerPool {
  readonly queue: JobQueue;
  private readonly slots: Slot[] = [];

  constructor(private readonly options: WorkerPoolOptions) {
    this.queue = new JobQueue(options.jobQueueSize);
  }

  /** Workers wanted now. */
  get target(): number {
    return this.slots.filter((s) => s.wanted).length;
  }

  /** Workers loaded and serving. */
  get readyCount(): number {
    return this.slots.filter((s) => s.wanted && s.ready).length;
  }

  /**
   * Sets the number of workers; resolves when each new worker loaded or failed its first load,
   * with the first failure's message (undefined when all loaded).
   */
  async scale(count: number): Promise<string | undefined> {
    const wanted = this.slots.filter((s) => s.wanted);
    for (const slot of wanted.slice(count)) this.retire(slot);
    const started: Slot[] = [];
    for (let i = wanted.length; i < count; i++) started.push(this.startSlot());
    const outcomes = await Promise.all(started.map((s) => s.firstLoad));
    return outcomes.find((o) => o !== undefined);
  }

  /** Queues a job; throws 503 when the queue is full or no worker is wanted. */
  submit(job: InferenceJob, describe: string): void {
    if (this.target === 0) throw unavailable(`Model ${describe} has no worker to serve inference requests; scale it up with PUT /models/{name}?min_worker=N.`);
    if (!this.queue.offer(job)) throw unavailable(`Model ${describe} has too many requests waiting (job_queue_size); try again later.`);
  }

  /** Stops every worker and answers queued jobs with 503. */
  close(): void {
    for (const slot of [...this.slots]) this.retire(slot); // retire() removes the slot from this.slots
    for (const job of this.queue.close()) job.responder.fail(unavailable("The model was unregistered before this request was served."));
  }

  /** The workers as `describe` shows them. */
  describeWorkers(): WorkerView[] {
    return this.slots
      .filter((s) => s.wanted && s.worker)
      .map((s) => {
        const worker = s.worker!;
        return {
          id: worker.id,
          startTime: worker.startTime.toISOString(),
          status: s.ready && worker.alive ? "READY" : "UNLOADING",
          memoryUsage: worker.memoryBytes(),
          pid: worker.pid ?? -1,
          gpu: worker.gpuId >= 0,
          gpuUsage: worker.gpuId >= 0 ? `gpuId::${worker.gpuId}` : "N/A",
        };
      });
  }

  private retire(slot: Slot): void {
    slot.wanted = false;
    slot.wake?.();
    this.queue.nudge();
    if (!slot.busy) slot.worker?.kill();
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
  }

  private startSlot(): Slot {
    let reportFirst: (outcome: string | undefined) => void = () => undefined;
    const slot: Slot = { wanted: true, worker: undefined, ready: false, busy: false, wake: undefined, firstLoad: new Promise((r) => (reportFirst = r)) };
    this.slots.push(slot);
    void this.runSlot(slot, reportFirst);
    return slot;
  }

  private async runSlot(slot: Slot, reportFirst: (outcome: string | undefined) => void): Promise<void> {
    const { options } = this;
    const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    let failures = 0;
    let first = true;
    while (slot.wanted) {
      const gpuId = options.nextGpu();
      const worker = new ModelWorker({ id: options.nextWorkerId(), python: options.python, log: options.log }, gpuId);
      slot.worker = worker;
      slot.ready = false;
      try {
        await worker.load({ ...options.load, gpuId }, options.startupTimeoutMs);
      } catch (error) {
        worker.kill();
        const message = (error as Error).message;
        options.log(`[${worker.id}] failed to load ${options.load.modelName}: ${message}`);
        if (first) {
          first = false;
          reportFirst(message);
          slot.wanted = false;
          break;
        }
        await this.pause(slot, backoff[Math.min(failures++, backoff.length - 1)] ?? 1000);
        continue;
      }
      slot.ready = true;
      if (first) {
        first = false;
        reportFirst(undefined);
      }
      await this.serve(slot, worker);
      const lived = Date.now() - worker.startTime.getTime();
      worker.kill();
      slot.ready = false;
      if (!slot.wanted) break;
      if (lived >= (options.stableAfterMs ?? 60_000)) failures = 0;
      const delay = backoff[Math.min(failures++, backoff.length - 1)] ?? 1000;
      options.log(`[${worker.id}] worker of ${options.load.modelName} ended; a new one starts in ${delay} ms`);
      await this.pause(slot, delay);
    }
    const index = this.slots.indexOf(slot);
    if (index >= 0 && !slot.wanted) this.slots.splice(index, 1);
  }

  private async serve(slot: Slot, worker: ModelWorker): Promise<void> {
    const { options } = this;
    const stopped = (): boolean => !slot.wanted || !worker.alive;
    worker.onExitOnce(() => this.queue.nudge());
    while (!stopped()) {
      const batch = await this.queue.takeBatch(options.batchSize, options.maxBatchDelayMs, stopped);
      if (batch.length === 0) continue;
      if (!worker.alive) {
        this.queue.returnToHead(batch);
        break;
      }
      const now = process.hrtime.bigint();
      for (const job of batch) job.scheduledAt = now;
      slot.busy = true;
      await worker.predict(batch, options.responseTimeoutMs);
      slot.busy = false;
    }
  }

  private pause(slot: Slot, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.wake = undefined;
        resolve();
      }, ms);
      slot.wake = () => {
        clearTimeout(timer);
        slot.wake = undefined;
        resolve();
      };
    });
  }
}
