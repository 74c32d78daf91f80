/**
 * A trigger's `filter:` applied to messages off the event loop: a worker thread evaluates the CEL
 * expression against each message in turn, with a time limit per message and a memory limit for
 * the worker. A message whose evaluation throws, gives something other than a bool, runs past the
 * time limit or exhausts the worker's memory is rejected with the reason; a worker that had to be
 * stopped is replaced and goes on with the next message. The expression was parsed and checked
 * when the pipeline file loaded (pipelines/trigger-filter.ts); the worker builds the same
 * environment from the same declarations.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { TRIGGER_FILTER_LIMITS, TRIGGER_FILTER_VARIABLES } from "../pipelines/index.js";
import type { TriggerMessage } from "./kafka-trigger.js";

/** The default time one message may take to evaluate. */
export const DEFAULT_FILTER_MESSAGE_MS = 200;
/** The heap of a filter's worker; a filter that builds more is stopped. */
const WORKER_HEAP_MB = 256;

/** What the filter said of one message: kept, skipped, or rejected with why. */
export type FilterOutcome = { match: boolean } | { reason: string };

/** The worker: parses the filter once, then evaluates each message it is sent, noting in shared memory which one it is on. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const progress = new Int32Array(workerData.progress);
const started = new Float64Array(workerData.started);
const ready = import(workerData.cel).then(({ Environment }) => {
  let env = new Environment({ limits: workerData.limits });
  for (const [name, type] of workerData.variables) env = env.registerVariable(name, type);
  return env.parse(workerData.filter);
});
function firstLine(error) {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\\n")[0] || text).trim().slice(0, 500);
}
function describe(value) {
  if (value === null) return "null";
  if (typeof value === "bigint") return "int " + value;
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return "double " + value;
  return typeof value === "object" ? "a " + (Array.isArray(value) ? "list" : "map") : typeof value;
}
parentPort.on("message", async ({ id, first, messages }) => {
  let evaluate;
  try {
    evaluate = await ready;
  } catch (error) {
    parentPort.postMessage({ id, failed: "the filter does not parse: " + firstLine(error) });
    return;
  }
  for (let i = 0; i < messages.length; i++) {
    started[0] = Date.now();
    Atomics.store(progress, 0, first + i + 1);
    const m = messages[i];
    let outcome;
    try {
      const result = evaluate({ key: m.key, value: m.value, headers: m.headers, partition: BigInt(m.partition), offset: BigInt(m.offset), timestamp: m.timestamp });
      outcome = typeof result === "boolean" ? result : "the filter gave " + describe(result) + ", not true or false";
    } catch (error) {
      outcome = "the filter failed: " + firstLine(error);
    }
    parentPort.postMessage({ id, index: first + i, outcome });
  }
  Atomics.store(progress, 0, 0);
});
`;

function celModuleUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("@marcbachmann/cel-js")).href;
}

type WorkerAnswer = { id: number; index: number; outcome: boolean | string } | { id: number; failed: string };

/** One trigger's filter; `close()` stops its worker. */
export class MessageFilter {
  #worker: Worker | undefined;
  #progress: Int32Array | undefined;
  #started: Float64Array | undefined;
  #nextId = 0;
  #restarts = 0;

  constructor(
    readonly source: string,
    /** The time one message may take. */
    readonly messageTimeoutMs: number = DEFAULT_FILTER_MESSAGE_MS,
  ) {}

  /** How often the worker was replaced after a message ran out of time or memory. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The filter's outcome for each message, in order. */
  async apply(messages: readonly TriggerMessage[]): Promise<FilterOutcome[]> {
    const outcomes: FilterOutcome[] = [];
    let rejection: { at: number; reason: string } | undefined;
    while (outcomes.length < messages.length) {
      if (rejection?.at === outcomes.length) {
        outcomes.push({ reason: rejection.reason });
        rejection = undefined;
        continue;
      }
      const stopped = await this.#run(messages, outcomes, rejection?.at ?? messages.length);
      if (stopped === undefined) continue;
      // The message it was on took too long or too much memory: it is rejected, the others go on in a new worker.
      rejection = stopped;
      this.#restarts += 1;
    }
    return outcomes;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #start(): Worker {
    const progress = new SharedArrayBuffer(4);
    const started = new SharedArrayBuffer(8);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { cel: celModuleUrl(), filter: this.source, limits: { ...TRIGGER_FILTER_LIMITS }, variables: TRIGGER_FILTER_VARIABLES, progress, started },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    worker.unref();
    this.#worker = worker;
    this.#progress = new Int32Array(progress);
    this.#started = new Float64Array(started);
    return worker;
  }

  /**
   * Sends the messages from `outcomes.length` up to `end` to the worker and appends its outcomes.
   * Resolves undefined when all are done, or with the message the worker was on when it had to be
   * stopped and why (the worker is then gone).
   */
  #run(messages: readonly TriggerMessage[], outcomes: FilterOutcome[], end: number): Promise<{ at: number; reason: string } | undefined> {
    const worker = this.#worker ?? this.#start();
    const progress = this.#progress;
    const started = this.#started;
    const id = this.#nextId++;
    const first = outcomes.length;
    return new Promise<{ at: number; reason: string } | undefined>((resolve, reject) => {
      let stoppedFor: string | undefined;
      const finish = (result: { at: number; reason: string } | undefined | Error): void => {
        clearInterval(watchdog);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const stop = (reason: string): void => {
        stoppedFor ??= reason;
        if (this.#worker === worker) this.#worker = undefined;
        void worker.terminate();
      };
      const onMessage = (answer: WorkerAnswer): void => {
        if (answer.id !== id) return;
        if ("failed" in answer) {
          finish(new Error(answer.failed));
          return;
        }
        outcomes.push(typeof answer.outcome === "string" ? { reason: answer.outcome } : { match: answer.outcome });
        if (outcomes.length === end) finish(undefined);
      };
      const onError = (error: Error): void => {
        const code = (error as NodeJS.ErrnoException).code;
        stoppedFor ??= code === "ERR_WORKER_OUT_OF_MEMORY" ? `the filter needed more than ${WORKER_HEAP_MB} MiB of memory` : `the filter's worker failed: ${error.message}`;
      };
      const onExit = (): void => {
        if (this.#worker === worker) this.#worker = undefined;
        if (outcomes.length >= end) {
          finish(undefined);
          return;
        }
        // The shared note says which message it was on; outcomes it posted before may be lost with it and are asked again.
        const on = (progress ? Atomics.load(progress, 0) : 0) - 1;
        finish({ at: on >= outcomes.length && on < end ? on : outcomes.length, reason: stoppedFor ?? "the filter's worker stopped" });
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      const watchdog = setInterval(
        () => {
          if (!progress || !started) return;
          const on = Atomics.load(progress, 0) - 1;
          // Only once every earlier outcome has arrived is the message it is on the next one here.
          if (on < 0 || on !== outcomes.length) return;
          const tookMs = Date.now() - (started[0] ?? Date.now());
          if (tookMs > this.messageTimeoutMs) stop(`the filter took longer than ${this.messageTimeoutMs} ms`);
        },
        Math.max(5, Math.floor(this.messageTimeoutMs / 4)),
      );
      worker.postMessage({ id, first, messages: messages.slice(first, end) });
    });
  }
}
