/**
 * Warm kernels from a fork server: python/capstan_runtime/kernel_forkserver.py imports IPython and
 * ipykernel once, and each kernel of the pool is a fork of it — a sixth of the CPU of a cold start,
 * which is what limits how fast the pool refills on a small machine. Only ipykernel kernelspecs
 * (`… -m ipykernel_launcher …`) qualify; a fork server that cannot start leaves the pool to cold
 * starts. The server is a helper process spoken to in JSON lines (src/helper-process/).
 */
import { fileURLToPath } from "node:url";
import { HelperProcess } from "../../helper-process/index.js";
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

/** One fork server process for one interpreter (with its options); not restarted when it dies (kernels then start cold). */
export class KernelForkServer {
  readonly #helper: HelperProcess;

  private constructor(helper: HelperProcess) {
    this.#helper = helper;
  }

  /** Starts a fork server; rejects when the interpreter cannot run it (no ipykernel, say). */
  static async start(interpreter: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<KernelForkServer> {
    const [command = "python3", ...options] = interpreter;
    const helper = await HelperProcess.start({ name: "the kernel fork server", command, args: [...options, SCRIPT], env, detached: true, stderr: "capture", readyTimeoutMs: timeoutMs });
    return new KernelForkServer(helper);
  }

  get running(): boolean {
    return this.#helper.running;
  }

  /** Starts one kernel; its exit is seen by watching its pid (it is not this process's child). */
  async fork(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; logPath: string }): Promise<WatchedProcess> {
    if (!this.#helper.running) throw new Error("the kernel fork server is not running");
    const env = Object.fromEntries(Object.entries(options.env).filter((pair): pair is [string, string] => pair[1] !== undefined));
    const reply = await this.#helper.request({ args, cwd: options.cwd, env, log: options.logPath });
    if (typeof reply.pid !== "number") throw new Error("the fork server gave no pid");
    return watchProcess(reply.pid, processStartTime(reply.pid));
  }

  /** Stops the server; kernels it started keep running (the pool shuts them down itself). */
  stop(): void {
    this.#helper.close();
  }
}
