/**
 * The kernel's process: started in its own session (so an interrupt reaches its whole group),
 * and watched so that its death is known at once: from the child's exit event when Capstan
 * started it, or by polling /proc when another process (the warm pool) did.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { signalGroupOrProcess } from "../../process-groups/index.js";

/** How a process ended; both null when only its disappearance was seen. */
export interface ProcessExit {
  code: number | null;
  signal: string | null;
  /** set when the process could not be started at all */
  error?: Error;
}

/** A kernel process that Capstan can signal and whose exit it learns of. */
export interface WatchedProcess {
  readonly pid: number;
  /** resolves when the process has ended */
  readonly exited: Promise<ProcessExit>;
  /** the exit once it happened, else undefined */
  readonly exit: ProcessExit | undefined;
  /** sends a signal to the process group (the kernel and what it started) */
  signal(signal: NodeJS.Signals): void;
  /** stops watching (no effect on the process) */
  dispose(): void;
}

/** Describes an exit for messages: "exit code 1", "signal SIGKILL". */
export function describeExit(exit: ProcessExit): string {
  if (exit.error) {
    return `could not start: ${exit.error.message}`;
  }
  if (exit.signal) {
    return `killed by signal ${exit.signal}`;
  }
  return exit.code === null ? "the process is gone" : `exit code ${exit.code}`;
}

/** Options of {@link spawnKernelProcess}. */
export interface SpawnKernelOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** where the kernel's own stdout/stderr go: inherited, or an open file descriptor */
  output: "inherit" | number;
}

/** Starts a kernel process in a new session. */
export function spawnKernelProcess(argv: string[], options: SpawnKernelOptions): WatchedProcess {
  const [command = "", ...args] = argv;
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", options.output, options.output],
  });
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once("error", (error) => {
      exit = { code: null, signal: null, error };
      resolve(exit);
    });
  });
  return {
    pid: child.pid ?? -1,
    exited,
    get exit() {
      return exit;
    },
    signal(signal) {
      if (child.pid !== undefined && exit === undefined) {
        signalGroupOrProcess(child.pid, signal);
      }
    },
    dispose() {
      child.removeAllListeners();
    },
  };
}

/** The start time of a process (clock ticks since boot, /proc/PID/stat field 22), to tell reused pids apart. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True while the process exists, is not a zombie, and (when given) started at `startTime`. */
export function isProcessAlive(pid: number, startTime?: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] !== "Z" && fields[0] !== "X" && (startTime === undefined || fields[19] === startTime);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return false;
    }
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Watches a process Capstan did not start, polling every `intervalMs`. */
export function watchProcess(pid: number, startTime: string | undefined, intervalMs = 100): WatchedProcess {
  let exit: ProcessExit | undefined;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    const check = (): void => {
      if (!isProcessAlive(pid, startTime)) {
        exit = { code: null, signal: null };
        clearInterval(timer);
        resolve(exit);
      }
    };
    timer = setInterval(check, intervalMs);
    check();
  });
  return {
    pid,
    exited,
    get exit() {
      return exit;
    },
    signal(signal) {
      if (exit === undefined && isProcessAlive(pid, startTime)) {
        signalGroupOrProcess(pid, signal);
      }
    },
    dispose() {
      clearInterval(timer);
    },
  };
}
