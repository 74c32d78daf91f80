/**
 * How the local executor starts an attempt's process. Forking the scheduler (a large Node process)
 * costs milliseconds that grow with its memory, so by default a small Python launcher
 * (python/capstan_runtime/launcher.py) starts attempts as forks of itself, which enter the task
 * boundary, cap the log and write the exit status with system calls rather than programs, and
 * reports their exits; where Python cannot run, Node's own spawn starts the shell wrapper of
 * attempt-wrapper.ts, which does the same with sh, unshare, mount, setpriv and head.
 *
 * The launcher cannot be stopped by one request: it answers a bad one with an error and goes on.
 * If it dies anyway (killed, crashed), the requests it had not answered fail with a
 * `LauncherExitedError` (the executor then looks for the attempt's pid file and token, since the
 * process may have started before the launcher died), the processes it was watching are handed to
 * `onOrphaned`, and a new launcher is started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { HelperProcess, type HelperExit, type HelperMessage } from "../../helper-process/index.js";
import { wrapperArgv } from "./attempt-wrapper.js";
import { refuseNul, type StartRequest } from "./start-request.js";

export { nulByteIn, type StartRequest } from "./start-request.js";

/** Which starter runs: the Python launcher, or Node's spawn. */
export type StarterKind = "python-launcher" | "node-spawn";

/** The launcher exited before answering: the process may or may not have started. */
export class LauncherExitedError extends Error {
  constructor() {
    super("the process launcher exited before answering");
    this.name = "LauncherExitedError";
  }
}

export type ExitListener = (pid: number, code: number | null, signal: NodeJS.Signals | null) => void;

export interface ProcessStarter {
  /** Which starter this is (for logs and tests). */
  readonly kind: StarterKind;
  /** Whether orphaned descendants of tasks are re-parented to (and reaped by) the starter. */
  readonly subreaper: boolean;
  /** Starts the attempt's process (a session of its own, which runs the command); resolves with its pid. */
  start(request: StartRequest): Promise<number>;
  onExit(listener: ExitListener): void;
  /** Called with pids whose exit will not be reported (the launcher died); watch them some other way. */
  onOrphaned(listener: (pids: number[]) => void): void;
  close(): void;
}

const SIGNALS: Record<number, NodeJS.Signals> = { 1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 13: "SIGPIPE", 15: "SIGTERM" };

/** Node's spawn of the shell wrapper (attempt-wrapper.ts): always available; its cost grows with the scheduler's memory. */
export class DirectStarter implements ProcessStarter {
  readonly kind = "node-spawn";
  readonly subreaper = false;
  #exit: ExitListener = () => undefined;

  start(request: StartRequest): Promise<number> {
    refuseNul(request);
    const log = openSync(request.log, "a", 0o600);
    let child: ChildProcess;
    try {
      const [command = "/bin/sh", ...args] = wrapperArgv(request);
      child = spawn(command, args, { env: request.env, detached: true, stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
    const pid = child.pid;
    if (pid === undefined) {
      return new Promise((_resolve, reject) => child.once("error", reject));
    }
    // Listen at once: a short task can exit before the next tick.
    child.once("exit", (code, signal) => this.#exit(pid, code, signal));
    child.unref();
    return Promise.resolve(pid);
  }

  onExit(listener: ExitListener): void {
    this.#exit = listener;
  }

  onOrphaned(): void {
    // children of this process are never orphaned while it runs
  }

  close(): void {}
}

/** The Python launcher (python/capstan_runtime/launcher.py), a helper process restarted when it dies. */
export class PythonStarter implements ProcessStarter {
  readonly kind = "python-launcher";
  readonly #helper: HelperProcess;
  readonly #logger: Logger;
  readonly #running = new Set<number>();
  /** Exits reported before the pid reply was read. */
  readonly #early = new Map<number, { code: number | null; signal: NodeJS.Signals | null }>();
  #exit: ExitListener = () => undefined;
  #orphaned: (pids: number[]) => void = () => undefined;

  private constructor(helper: HelperProcess, logger: Logger) {
    this.#helper = helper;
    this.#logger = logger;
  }

  /** Starts the launcher; resolves undefined when Python cannot run it. */
  static async create(python: string, logger: Logger): Promise<PythonStarter | undefined> {
    let starter: PythonStarter | undefined;
    try {
      const helper = await HelperProcess.start({
        name: "the process launcher",
        command: python,
        args: ["-I", fileURLToPath(new URL("../../../python/capstan_runtime/launcher.py", import.meta.url))],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        unref: true,
        restart: true,
        exitedError: () => new LauncherExitedError(),
        onEvent: (message) => {
          if (starter) starter.#event(message);
        },
        onExit: (exit) => {
          if (starter) starter.#launcherExited(exit);
        },
        log: logger,
      });
      starter = new PythonStarter(helper, logger);
      return starter;
    } catch (error) {
      logger.warn({ err: error, python }, "the process launcher could not start; tasks are started by Node's spawn");
      return undefined;
    }
  }

  /** Whether orphaned task processes are re-parented to the launcher (it is a child subreaper). */
  get subreaper(): boolean {
    return this.#helper.ready.subreaper === true;
  }

  /** How many launchers were started so far (more than one after a restart). */
  get boots(): number {
    return this.#helper.boots;
  }

  /** The launcher's pid while it runs. */
  get pid(): number | undefined {
    return this.#helper.pid;
  }

  async start(request: StartRequest): Promise<number> {
    refuseNul(request);
    const reply = await this.#helper.request({ argv: request.argv, env: request.env, log: request.log, dir: request.attemptDir, cwd: request.cwd, cgroup: request.cgroup, max_log: request.maxLogBytes, boundary: request.boundary });
    if (typeof reply.pid !== "number") throw new Error("the launcher gave no pid");
    const pid = reply.pid;
    this.#running.add(pid);
    const early = this.#early.get(pid);
    if (early) {
      this.#early.delete(pid);
      this.#running.delete(pid);
      queueMicrotask(() => this.#exit(pid, early.code, early.signal));
    }
    return pid;
  }

  onExit(listener: ExitListener): void {
    this.#exit = listener;
  }

  onOrphaned(listener: (pids: number[]) => void): void {
    this.#orphaned = listener;
  }

  close(): void {
    this.#helper.close();
  }

  #event(message: HelperMessage): void {
    if (typeof message.exit !== "number") {
      if (message.error !== undefined) this.#logger.warn({ error: message.error }, "the process launcher refused a line");
      return;
    }
    const pid = message.exit;
    const code = typeof message.code === "number" ? message.code : null;
    const signal = typeof message.signal === "number" ? (SIGNALS[message.signal] ?? "SIGTERM") : null;
    if (!this.#running.has(pid)) {
      this.#early.set(pid, { code, signal });
      return;
    }
    this.#running.delete(pid);
    this.#exit(pid, code, signal);
  }

  #launcherExited(exit: HelperExit): void {
    this.#early.clear();
    this.#logger.warn({ ...exit, running: this.#running.size }, "the process launcher exited; its running tasks are watched through their status files, and a new launcher is started");
    const orphans = [...this.#running];
    this.#running.clear();
    if (orphans.length > 0) this.#orphaned(orphans);
  }
}
