/**
 * Loads a TypeScript pipeline file: its default export is a definition built with the helpers of the
 * `capstan` package (`pipeline({...})`), validated exactly like YAML. Imports of "capstan" resolve to
 * this installation, so pipeline folders need no node_modules of their own.
 *
 * A file is imported in a worker thread, never on the event loop of the server, and with a time
 * limit: a file that loops or waits at import is reported with its name and the limit, and the
 * worker is terminated. One worker serves a batch of files (a registry load).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { formatDuration } from "../units/index.js";
import { PipelineFileError } from "./errors.js";
import type { PipelineSpec } from "./model.js";
import { validateDefinition, type SpecCheck } from "./validate.js";

/** How long one TypeScript file may take to import, unless configured (`pipeline_load_timeout`). */
export const DEFAULT_PIPELINE_LOAD_TIMEOUT_MS = 10_000;

function packageEntry(): string {
  const js = fileURLToPath(new URL("../index.js", import.meta.url));
  if (existsSync(js)) return js;
  return fileURLToPath(new URL("../index.ts", import.meta.url));
}

/** The worker: imports the files it is sent with jiti and posts back each default export. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createJiti } = require(workerData.jiti);
parentPort.on("message", async ({ id, file }) => {
  let exported;
  try {
    const jiti = createJiti(workerData.base, { alias: { capstan: workerData.capstan }, moduleCache: false, fsCache: false, interopDefault: true });
    exported = await jiti.import(file, { default: true });
  } catch (error) {
    const message = error instanceof Error ? (error.message.split("\\n")[0] ?? String(error)) : String(error);
    parentPort.postMessage({ id, ok: false, message: "cannot load the TypeScript file: " + message });
    return;
  }
  try {
    parentPort.postMessage({ id, ok: true, exported });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, message: "the default export is not plain data (" + (error instanceof Error ? error.message : String(error)) + "); a pipeline is strings, numbers, booleans, dates, lists and objects" });
  }
});
`;

type WorkerAnswer = { id: number; ok: true; exported: unknown } | { id: number; ok: false; message: string };

export interface TsPipelineLoaderOptions {
  /** The time limit of one file's import, in milliseconds. */
  timeoutMs?: number;
}

/** Imports TypeScript pipeline files one at a time in a worker thread, each within a time limit. */
export class TsPipelineLoader {
  readonly timeoutMs: number;
  #worker: Worker | undefined;
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: TsPipelineLoaderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PIPELINE_LOAD_TIMEOUT_MS;
  }

  /** The file's default export; throws PipelineFileError naming the file (and the limit, on a timeout). */
  import(file: string): Promise<unknown> {
    const result = this.#queue.then(() => this.#importNow(file));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Stops the worker; a later import starts a new one. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #start(): Worker {
    const jiti = createRequire(import.meta.url).resolve("jiti");
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { jiti, base: import.meta.url, capstan: packageEntry() } });
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #importNow(file: string): Promise<unknown> {
    const worker = this.#worker ?? this.#start();
    const id = this.#next++;
    return new Promise<unknown>((resolve, reject) => {
      const fail = (message: string, cause?: unknown): void => {
        reject(new PipelineFileError(file, [{ path: [], message }], cause === undefined ? undefined : { cause }));
      };
      const settle = (): void => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      const discard = (): void => {
        if (this.#worker === worker) this.#worker = undefined;
        void worker.terminate();
      };
      const onMessage = (answer: WorkerAnswer): void => {
        if (answer.id !== id) return;
        settle();
        if (answer.ok) resolve(answer.exported);
        else fail(answer.message);
      };
      const onError = (error: Error): void => {
        settle();
        discard();
        fail(`failed while loading: ${error.message.split("\n")[0] ?? String(error)}`, error);
      };
      const onExit = (code: number): void => {
        settle();
        if (this.#worker === worker) this.#worker = undefined;
        fail(`ended the loader while loading (exit code ${code}); a pipeline file must not call process.exit`);
      };
      const timer = setTimeout(() => {
        settle();
        discard();
        fail(`did not finish loading within ${formatDuration(this.timeoutMs)} (the pipeline_load_timeout setting); a file that loops or waits at import never finishes`);
      }, this.timeoutMs);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      worker.postMessage({ id, file });
    });
  }
}

/**
 * Imports and validates a TypeScript pipeline file; throws PipelineFileError naming task and field.
 * Without a loader, one is started for this file and stopped after it.
 */
export async function loadTsPipeline(file: string, check?: SpecCheck, loader?: TsPipelineLoader): Promise<PipelineSpec> {
  const own = loader ?? new TsPipelineLoader();
  let exported: unknown;
  try {
    exported = await own.import(file);
  } finally {
    if (!loader) await own.close();
  }
  if (exported === undefined) {
    throw new PipelineFileError(file, [{ path: [], message: "the file has no default export; write `export default pipeline({ id, tasks })` with `import { pipeline } from \"capstan\"`" }]);
  }
  const result = validateDefinition(exported, check);
  if (result.ok) return result.spec;
  throw new PipelineFileError(file, result.issues);
}
