/**
 * Warm kernels from a fork server: python/capstan_runtime/kernel_forkserver.py imports IPython and
 * ipykernel once, and each kernel of the pool is a fork of it — a sixth of the CPU of a cold start,
 * which is what limits how fast the pool refills on a small machine. Only ipykernel kernelspecs
 * (`… -m ipykernel_launcher …`) qualify; a fork server that cannot start leaves the pool to cold
 * starts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { processStartTime, watchProcess, type WatchedProcess } from "../kernel/kernel-process.js";

const SCRIPT = fileURLToPath(new URL("../../../python/capstan_runtime/kernel_forkserver.py", import.meta.url));

/** The interpreter part of a kernel's argv (before `-m ipykernel_launcher`) and the kernel's own arguments. */
export interface ForkableArgv {
  interpreter: string[];
  args: string[];
}

/** Splits an ipykernel argv; undefined for kernels the fork server cannot start. */
export function forkableArgv(argv: readonly string[]): ForkableArgv | undefined {
  const m = argv.indexOf("-m");
  const module = argv[m + 1];
  if (m < 1 || (module !== "ipykernel_launcher" && module !== "ipykernel")) return undefined;
  return { interpreter: argv.slice(0, m), args: argv.slice(m + 2) };
}

interface Reply {
  ready?: number;
  id?: number;
  pid?: number;
  error?: string;
}

/** One fork server process for one interpreter (with its options). */
export class KernelForkServer {
  #child: ChildProcess | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (pid: number) => void; reject: (error: Error) => void }>();

  private constructor() {}

  /** Starts a fork server; rejects when the interpreter cannot run it (no ipykernel, say). */
  static async start(interpreter: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<KernelForkServer> {
    const server = new KernelForkServer();
    const [command = "python3", ...options] = interpreter;
    const child = spawn(command, [...options, SCRIPT], { stdio: ["pipe", "pipe", "pipe"], env, detached: true });
    server.#child = child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-2000)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the kernel fork server did not start within ${timeoutMs} ms`)), timeoutMs);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the kernel fork server exited (${code ?? "signal"}): ${stderr.trim()}`));
        for (const pending of server.#pending.values()) pending.reject(new Error("the kernel fork server exited"));
        server.#pending.clear();
        server.#child = undefined;
      });
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        let reply: Reply;
        try {
          reply = JSON.parse(line) as Reply;
        } catch {
          return;
        }
        if (reply.ready !== undefined) {
          clearTimeout(timer);
          resolve();
          return;
        }
        const pending = reply.id === undefined ? undefined : server.#pending.get(reply.id);
        if (!pending || reply.id === undefined) return;
        server.#pending.delete(reply.id);
        if (reply.pid !== undefined) pending.resolve(reply.pid);
        else pending.reject(new Error(reply.error ?? "the fork server gave no pid"));
      });
    });
    child.unref();
    return server;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts one kernel; its exit is seen by watching its pid (it is not this process's child). */
  async fork(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; logPath: string }): Promise<WatchedProcess> {
    const stdin = this.#child?.stdin;
    if (!stdin) throw new Error("the kernel fork server is not running");
    const id = this.#nextId++;
    const env = Object.fromEntries(Object.entries(options.env).filter((pair): pair is [string, string] => pair[1] !== undefined));
    const pid = await new Promise<number>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      stdin.write(`${JSON.stringify({ id, args, cwd: options.cwd, env, log: options.logPath })}\n`);
    });
    return watchProcess(pid, processStartTime(pid));
  }

  /** Stops the server; kernels it started keep running (the pool shuts them down itself). */
  stop(): void {
    this.#child?.stdin?.end();
    this.#child = undefined;
  }
}
