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
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
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

interface LauncherMessage {
  ready?: number;
  subreaper?: boolean;
  id?: number;
  pid?: number;
  error?: string;
  exit?: number;
  code?: number;
  signal?: number;
}

/** The Python launcher (python/capstan_runtime/launcher.py), spoken to over pipes. */
export class PythonStarter implements ProcessStarter {
  readonly kind = "python-launcher";
  #subreaper = false;
  #child: ChildProcess | undefined;
  /** The launcher being started, while it is. */
  #booting: Promise<void> | undefined;
  /** How many launchers have been started (1 + restarts). */
  #boots = 0;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (pid: number) => void; reject: (error: Error) => void }>();
  readonly #running = new Set<number>();
  /** Exits reported before the pid reply was read. */
  readonly #early = new Map<number, { code: number | null; signal: NodeJS.Signals | null }>();
  #exit: ExitListener = () => undefined;
  #orphaned: (pids: number[]) => void = () => undefined;
  #closed = false;

  private constructor(
    private readonly python: string,
    private readonly logger: Logger,
  ) {}

  /** Starts the launcher; resolves undefined when Python cannot run it. */
  static async create(python: string, logger: Logger): Promise<PythonStarter | undefined> {
    const starter = new PythonStarter(python, logger);
    try {
      await starter.#ensureRunning();
      return starter;
    } catch (error) {
      logger.warn({ err: error, python }, "the process launcher could not start; tasks are started by Node's spawn");
      starter.close();
      return undefined;
    }
  }

  /** Whether orphaned task processes are re-parented to the launcher (it is a child subreaper). */
  get subreaper(): boolean {
    return this.#subreaper;
  }

  /** How many launchers were started so far (more than one after a restart). */
  get boots(): number {
    return this.#boots;
  }

  /** The launcher's pid while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #ensureRunning(): Promise<void> {
    if (this.#child && !this.#booting) return Promise.resolve();
    this.#booting ??= this.#boot().finally(() => {
      this.#booting = undefined;
    });
    return this.#booting;
  }

  #boot(): Promise<void> {
    const script = fileURLToPath(new URL("../../../python/capstan_runtime/launcher.py", import.meta.url));
    const child = spawn(this.python, ["-I", script], { stdio: ["pipe", "pipe", "inherit"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    this.#child = child;
    this.#boots += 1;
    // A write to a launcher that just died fails with EPIPE: the request fails, the process stays up.
    child.stdin?.on("error", (error) => this.logger.debug({ err: error }, "writing to the process launcher failed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the launcher did not start within 20 s")), 20_000);
      child.once("error", (error) => {
        clearTimeout(timer);
        if (this.#child === child) this.#child = undefined;
        reject(error);
      });
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on("line", (line) => {
        let message: LauncherMessage;
        try {
          message = JSON.parse(line) as LauncherMessage;
        } catch {
          this.logger.warn({ line }, "unreadable line from the process launcher");
          return;
        }
        if (message.ready !== undefined) {
          clearTimeout(timer);
          this.#subreaper = message.subreaper === true;
          resolve();
          return;
        }
        this.#handle(message);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the launcher exited (${code ?? signal ?? "?"})`));
        this.#onLauncherExit(child, code, signal);
      });
      child.unref();
      (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    });
  }

  #handle(message: LauncherMessage): void {
    if (message.id === undefined && message.error !== undefined) {
      this.logger.warn({ error: message.error }, "the process launcher refused a line");
      return;
    }
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (!pending) return;
      if (message.error !== undefined || message.pid === undefined) {
        pending.reject(new Error(message.error ?? "the launcher gave no pid"));
        return;
      }
      const pid = message.pid;
      this.#running.add(pid);
      pending.resolve(pid);
      const early = this.#early.get(pid);
      if (early) {
        this.#early.delete(pid);
        this.#running.delete(pid);
        queueMicrotask(() => this.#exit(pid, early.code, early.signal));
      }
      return;
    }
    if (message.exit !== undefined) {
      const pid = message.exit;
      const code = message.code ?? null;
      const signal = message.signal !== undefined ? (SIGNALS[message.signal] ?? "SIGTERM") : null;
      if (!this.#running.has(pid)) {
        this.#early.set(pid, { code, signal });
        return;
      }
      this.#running.delete(pid);
      this.#exit(pid, code, signal);
    }
  }

  #onLauncherExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child === child) this.#child = undefined;
    for (const pending of this.#pending.values()) pending.reject(new LauncherExitedError());
    this.#pending.clear();
    this.#early.clear();
    if (this.#closed) return;
    this.logger.warn({ code, signal, running: this.#running.size }, "the process launcher exited; its running tasks are watched through their status files, and a new launcher is started");
    const orphans = [...this.#running];
    this.#running.clear();
    if (orphans.length > 0) this.#orphaned(orphans);
    // Start the next one now rather than on the next launch; a failure here is retried by that launch.
    if (!this.#booting) {
      this.#ensureRunning().catch((error: unknown) => this.logger.error({ err: error }, "the process launcher could not be restarted; the next launch tries again"));
    }
  }

  async start(request: StartRequest): Promise<number> {
    refuseNul(request);
    if (this.#closed) throw new Error("the process launcher is closed");
    await this.#ensureRunning();
    const child = this.#child;
    if (!child?.stdin?.writable) throw new LauncherExitedError();
    const id = this.#nextId++;
    const pid = new Promise<number>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    const message = { id, argv: request.argv, env: request.env, log: request.log, dir: request.attemptDir, cwd: request.cwd, cgroup: request.cgroup, max_log: request.maxLogBytes, boundary: request.boundary };
    child.stdin.write(`${JSON.stringify(message)}\n`, (error) => {
      if (!error) return;
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      pending?.reject(new LauncherExitedError());
    });
    return pid;
  }

  onExit(listener: ExitListener): void {
    this.#exit = listener;
  }

  onOrphaned(listener: (pids: number[]) => void): void {
    this.#orphaned = listener;
  }

  close(): void {
    this.#closed = true;
    this.#child?.stdin?.end();
    this.#child = undefined;
  }
}
