/**
 * One Python worker process (python -m capstan_serving.worker) that serves one model version:
 * started, told what to load, sent batches over its fd 3 socketpair, and killed when it overruns
 * its response timeout. Its stdout and stderr go to the server's log line by line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { internal, ServingError } from "../errors.js";
import type { InferenceJob, WorkerAnswer } from "./inference-job.js";
import { readFrames, writeFrame, type Frame } from "./worker-channel.js";

/** The folder holding capstan_serving, put on the worker's PYTHONPATH. */
export const PYTHON_SOURCE_DIR = fileURLToPath(new URL("../../../python", import.meta.url));

/** What the worker loads. */
export interface WorkerLoadSpec {
  modelName: string;
  modelDir: string;
  handler: string;
  batchSize: number;
  gpuId: number;
  manifest: unknown;
  modelYamlConfig: Record<string, unknown>;
}

/** How a worker process starts. */
export interface ModelWorkerOptions {
  id: string;
  python: string;
  env?: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/** The handler could not be loaded; the message is the worker's own account. */
export class WorkerLoadError extends Error {
  override readonly name = "WorkerLoadError";
}

/** The answer a worker sends when it failed a whole batch. */
const WORKER_DIED = "Worker died.";

/** A running worker process. */
export class ModelWorker {
  readonly startTime = new Date();
  readonly gpuId: number;
  private readonly child: ChildProcess;
  private readonly socket: Socket;
  private frameWaiter: ((frame: Frame) => void) | undefined;
  private inFlight: { jobs: Map<string, InferenceJob>; finish: () => void } | undefined;
  private exitListeners: Array<(reason: string) => void> = [];
  private exited: string | undefined;

  constructor(
    private readonly options: ModelWorkerOptions,
    gpuId: number,
  ) {
    this.gpuId = gpuId;
    const env = { ...process.env, ...options.env, PYTHONPATH: [PYTHON_SOURCE_DIR, process.env["PYTHONPATH"]].filter(Boolean).join(":"), PYTHONUNBUFFERED: "1" };
    this.child = spawn(options.python, ["-m", "capstan_serving.worker"], { stdio: ["ignore", "pipe", "pipe", "pipe"], env });
    this.socket = this.child.stdio[3] as Socket;
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => options.log(`[${options.id}] ${line}`));
    }
    readFrames(this.socket, (frame) => this.onFrame(frame), (error) => {
      options.log(`[${options.id}] bad frame from worker: ${error.message}`);
      this.kill();
    });
    this.socket.on("error", () => undefined);
    this.child.on("error", (error) => this.onExit(`could not start ${options.python}: ${error.message}`));
    this.child.on("exit", (code, signal) => this.onExit(signal ? `killed by ${signal}` : `exited with code ${code}`));
  }

  get id(): string {
    return this.options.id;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Sends the load command and waits for the handler's initialize to finish. */
  async load(spec: WorkerLoadSpec, timeoutMs: number): Promise<void> {
    const frame = await new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(new WorkerLoadError(`the worker did not load the model within ${Math.round(timeoutMs / 1000)} s (startup_timeout)`));
      }, timeoutMs);
      this.frameWaiter = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.onExitOnce((reason) => {
        clearTimeout(timer);
        reject(new WorkerLoadError(`the worker ${reason} while loading the model`));
      });
      writeFrame(this.socket, { type: "load", ...spec, limitMaxImagePixels: true });
    });
    this.frameWaiter = undefined;
    if (frame.header["code"] !== 200) throw new WorkerLoadError(messageOf(frame, "the handler failed to load"));
  }

  /** Sends a batch; resolves when every job of it is answered (by the worker, or with "Worker died."). */
  predict(jobs: InferenceJob[], timeoutMs: number): Promise<void> {
    if (!this.alive) {
      for (const job of jobs) job.responder.fail(internal(WORKER_DIED));
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.options.log(`[${this.id}] no answer within ${Math.round(timeoutMs / 1000)} s (response_timeout): killing the worker`);
        this.kill();
      }, timeoutMs);
      this.inFlight = {
        jobs: new Map(jobs.map((job) => [job.id, job])),
        finish: () => {
          clearTimeout(timer);
          this.inFlight = undefined;
          resolve();
        },
      };
      const requests = jobs.map((job) => ({ id: job.id, headers: job.headers, inputs: job.inputs.map((i) => ({ name: i.name, contentType: i.contentType, size: i.value.length })) }));
      writeFrame(this.socket, { type: "predict", requests }, jobs.flatMap((job) => job.inputs.map((i) => i.value)));
    });
  }

  /** Resident memory of the process in bytes, from /proc; 0 when unknown. */
  memoryBytes(): number {
    return residentBytes(this.child.pid);
  }

  /** Registers a listener for the process's end. */
  onExitOnce(listener: (reason: string) => void): void {
    if (this.exited !== undefined) listener(this.exited);
    else this.exitListeners.push(listener);
  }

  /** Stops the process at once. */
  kill(): void {
    if (this.exited === undefined) this.child.kill("SIGKILL");
  }

  private onFrame(frame: Frame): void {
    if (frame.header["type"] === "loaded") {
      this.frameWaiter?.(frame);
      return;
    }
    const batch = this.inFlight;
    if (frame.header["type"] !== "result" || !batch) return;
    const code = Number(frame.header["code"]);
    if (code !== 200) {
      const error = new ServingError(code === 413 ? 507 : code, "InternalServerException", messageOf(frame, ""));
      for (const job of batch.jobs.values()) job.responder.fail(error);
      batch.finish();
      return;
    }
    let offset = 0;
    for (const item of (frame.header["responses"] ?? []) as WireAnswer[]) {
      const body = frame.body.subarray(offset, offset + item.size);
      offset += item.size;
      const job = batch.jobs.get(item.id);
      if (!job) continue;
      const answer: WorkerAnswer = { status: item.status, phrase: item.phrase, contentType: item.contentType, headers: item.headers, body: Buffer.from(body) };
      if (item.more) {
        job.responder.partial(answer);
      } else {
        job.responder.done(answer);
        batch.jobs.delete(item.id);
      }
    }
    if (batch.jobs.size === 0) batch.finish();
  }

  private onExit(reason: string): void {
    if (this.exited !== undefined) return;
    this.exited = reason;
    this.socket.destroy();
    const batch = this.inFlight;
    if (batch) {
      for (const job of batch.jobs.values()) job.responder.fail(internal(WORKER_DIED));
      batch.finish();
    }
    const listeners = this.exitListeners;
    this.exitListeners = [];
    for (const listener of listeners) listener(reason);
  }
}

interface WireAnswer {
  id: string;
  status: number;
  phrase: string;
  contentType: string | null;
  headers: Record<string, string>;
  size: number;
  more: boolean;
}

/** VmRSS of a process in bytes. */
export function residentBytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

function messageOf(frame: Frame, fallback: string): string {
  const message = frame.header["message"];
  return typeof message === "string" ? message : fallback;
}
