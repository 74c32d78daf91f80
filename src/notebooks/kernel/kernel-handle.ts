/**
 * A running kernel owned by one notebook run: its process, its client and its connection
 * directory. Cold starts happen here (kernelspec argv and env as jupyter_client builds them);
 * readiness means a kernel_info reply and one IOPub message; shutdown is a shutdown_request, then
 * SIGTERM, then SIGKILL.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KernelDiedError, KernelReplyTimeoutError, KernelStartError } from "../errors.js";
import type { JsonObject } from "../values/json-value.js";
import { newConnectionInfo, writeConnectionFile, type ConnectionInfo, type Transport } from "./connection-file.js";
import { KernelClient } from "./kernel-client.js";
import { describeExit, spawnKernelProcess, type ProcessExit, type WatchedProcess } from "./kernel-process.js";
import { isIpykernel, pythonPrefix, type KernelSpec } from "./kernelspec.js";
import type { KernelMessage } from "./session.js";

/** A kernel ready to execute code. */
export class KernelHandle {
  private shutDown = false;

  constructor(
    readonly spec: KernelSpec,
    readonly client: KernelClient,
    readonly process: WatchedProcess,
    /** paths removed after shutdown (the ipc sockets and connection file, a pool ticket) */
    private readonly ownedPaths: string[],
    /** how the kernel was obtained, for logs */
    readonly origin: "cold" | "pool",
    /** paths removed when shutdown returns before the process has exited (the rest is the pool's to sweep) */
    private readonly detachedPaths: string[] = [],
  ) {}

  /** The language_info of a kernel_info reply. */
  async kernelInfo(timeoutMs?: number): Promise<KernelMessage> {
    const { reply } = this.client.request("shell", "kernel_info_request", {});
    return this.withDeath(reply, timeoutMs, "kernel_info");
  }

  /** Waits for a promise, failing when the kernel dies or the timeout passes. */
  async withDeath<T>(promise: Promise<T>, timeoutMs: number | undefined, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout =
      timeoutMs === undefined
        ? new Promise<never>(() => undefined)
        : new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new KernelReplyTimeoutError(what, timeoutMs)), timeoutMs);
          });
    const death = this.process.exited.then((exit): never => {
      throw new KernelDiedError(describeExit(exit));
    });
    death.catch(() => undefined);
    try {
      return await Promise.race([promise, timeout, death]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Interrupts the kernel as its spec says: SIGINT to its process group, or an interrupt_request. */
  interrupt(): void {
    if (this.spec.interruptMode === "message") {
      this.client.request("control", "interrupt_request", {});
    } else {
      this.process.signal("SIGINT");
    }
  }

  /**
   * Shuts the kernel down: a shutdown_request on control, then SIGTERM, then SIGKILL. With
   * `detachAfterReply` (claimed pool kernels) it returns once the kernel has acknowledged the
   * request, without waiting for its interpreter to finish exiting: the kernel's parent watcher
   * and the pool's sweep end it if it does not.
   */
  async shutdown(options: { waitMs?: number; detachAfterReply?: boolean } = {}): Promise<void> {
    if (this.shutDown) {
      return;
    }
    this.shutDown = true;
    const waitMs = options.waitMs ?? 5000;
    let detached = false;
    if (this.process.exit === undefined) {
      const { reply } = this.client.request("control", "shutdown_request", { restart: false });
      if (options.detachAfterReply) {
        detached = await this.withDeath(reply, waitMs, "shutdown_request").then(
          () => true,
          () => false,
        );
      }
      if (!detached && !(await exitsWithin(this.process, waitMs))) {
        this.process.signal("SIGTERM");
        if (!(await exitsWithin(this.process, 2000))) {
          this.process.signal("SIGKILL");
          await exitsWithin(this.process, 2000);
        }
      }
    }
    this.client.close();
    this.process.dispose();
    for (const path of detached ? this.detachedPaths : this.ownedPaths) {
      await rm(path, { recursive: true, force: true });
    }
  }
}

async function exitsWithin(process: WatchedProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    process.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return result;
}

/** Options of {@link startKernel}. */
export interface StartKernelOptions {
  spec: KernelSpec;
  /** the kernel's working directory */
  cwd: string;
  /** the environment the kernel inherits (before the kernelspec's env is applied) */
  env: NodeJS.ProcessEnv;
  /** the Python used for `{prefix}` and a bare `python` in argv */
  python?: string | undefined;
  transport?: Transport;
  /** seconds to wait for the kernel to answer */
  startTimeoutSeconds?: number;
  /** where the kernel's own stdout/stderr go */
  output?: "inherit" | number;
  /** set JPY_PARENT_PID so the kernel exits with its parent (cold starts) */
  bindToParent?: boolean;
}

/** Applies `${VAR}`/`$VAR` references in the kernelspec env as Python's Template.safe_substitute does. */
function substituteEnv(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$(?:\$|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})/gi, (match, bare: string | undefined, braced: string | undefined) => {
    if (match === "$$") {
      return "$";
    }
    const name = bare ?? braced ?? "";
    const replacement = env[name];
    return replacement === undefined ? match : replacement;
  });
}

/** The environment a kernel starts with, as jupyter_client builds it. */
export function kernelEnvironment(spec: KernelSpec, env: NodeJS.ProcessEnv, bindToParent: boolean): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = { ...env };
  // papermill's CLI sets this for the debugger's frozen-modules warning; kernels inherit it.
  result["PYDEVD_DISABLE_FILE_VALIDATION"] ??= "1";
  for (const [key, value] of Object.entries(spec.env)) {
    result[key] = substituteEnv(value, result);
  }
  delete result["PYTHONEXECUTABLE"];
  if (bindToParent) {
    result["JPY_PARENT_PID"] = String(process.pid);
  } else {
    delete result["JPY_PARENT_PID"];
  }
  return result;
}

/** The kernel's argv with `{connection_file}`, `{prefix}` and `{resource_dir}` filled in. */
export function kernelArgv(spec: KernelSpec, connectionFile: string, python: string | undefined): string[] {
  const argv = [...spec.argv];
  if (python && /^python(\d+(\.\d+)?)?$/.test(argv[0] ?? "")) {
    argv[0] = python;
  }
  if (isIpykernel(spec)) {
    argv.push("--HistoryManager.hist_file=:memory:");
  }
  const values: Record<string, string> = { connection_file: connectionFile, resource_dir: spec.resourceDir };
  if (python) {
    values["prefix"] = pythonPrefix(python);
  }
  return argv.map((arg) => arg.replace(/\{([A-Za-z0-9_]+)\}/g, (match, key: string) => values[key] ?? match));
}

/** Waits until the kernel answers kernel_info and IOPub delivers; fails if it dies or times out. */
export async function waitForReady(client: KernelClient, process: WatchedProcess, timeoutMs: number, kernelName: string): Promise<JsonObject> {
  const deadline = Date.now() + timeoutMs;
  let died: ProcessExit | undefined;
  void process.exited.then((exit) => {
    died = exit;
  });
  // Every timer is cleared once its race is decided: a pending one would keep the process alive.
  let timer: NodeJS.Timeout | undefined;
  const exitOrTimeout = (ms: number): Promise<"timeout"> =>
    new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms);
      void process.exited.then(() => resolve("timeout"));
    });
  while (Date.now() < deadline) {
    const { msgId, reply } = client.request("shell", "kernel_info_request", {});
    const answer = await Promise.race([reply, exitOrTimeout(Math.min(1000, Math.max(1, deadline - Date.now())))]);
    clearTimeout(timer);
    if (died) {
      throw new KernelStartError(kernelName, `the kernel process ended before it answered (${describeExit(died)})`);
    }
    if (answer === "timeout") {
      client.forget(msgId);
      continue;
    }
    if (client.iopubCount === 0) {
      // The reply proves shell works; one IOPub message proves the subscription is live.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 200);
        const stop = client.onAnyIopub(done);
        function done(): void {
          clearTimeout(timer);
          stop();
          resolve();
        }
      });
    }
    if (client.iopubCount > 0) {
      return answer.content;
    }
  }
  throw new KernelStartError(kernelName, `no kernel_info reply within ${Math.round(timeoutMs / 1000)} s (raise --start-timeout if the machine is slow)`);
}

/** Starts a kernel from its kernelspec and waits until it is ready. */
export async function startKernel(options: StartKernelOptions): Promise<KernelHandle> {
  const dir = await mkdtemp(join(tmpdir(), "capstan-kernel-"));
  try {
    const connection: ConnectionInfo = await newConnectionInfo(dir, options.spec.name, options.transport ?? "ipc");
    const connectionFile = join(dir, "connection.json");
    await writeConnectionFile(connectionFile, connection);
    const argv = kernelArgv(options.spec, connectionFile, options.python);
    const child = spawnKernelProcess(argv, {
      cwd: options.cwd,
      env: kernelEnvironment(options.spec, options.env, options.bindToParent ?? true),
      output: options.output ?? "inherit",
    });
    const client = KernelClient.connect(connection);
    const handle = new KernelHandle(options.spec, client, child, [dir], "cold");
    try {
      await waitForReady(client, child, (options.startTimeoutSeconds ?? 60) * 1000, options.spec.name);
    } catch (error) {
      await handle.shutdown({ waitMs: 0 });
      throw error;
    }
    return handle;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    if (error instanceof KernelStartError) {
      throw error;
    }
    throw new KernelStartError(options.spec.name, (error as Error).message, { cause: error });
  }
}
