/**
 * A helper process spoken to in JSON lines: the process launcher of the local executor
 * (python/capstan_runtime/launcher.py) and the kernel fork server of the warm pool
 * (python/capstan_runtime/kernel_forkserver.py) are both small Python processes that say
 * `{"ready": …}` once, then answer requests `{"id": N, …}` with `{"id": N, …}` (or
 * `{"id": N, "error": …}`), and may send messages of their own that answer nothing (events).
 *
 * This client starts the helper and waits for its ready line, numbers requests and matches the
 * replies, hands events on, and when the helper dies fails the requests it had not answered and,
 * if asked, starts a new one at once (a request made while it starts waits for it). A write to a
 * helper that just died fails that request, never this process (EPIPE is handled).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** One line from or to a helper. */
export type HelperMessage = Record<string, unknown>;

/** How a helper ended. */
export interface HelperExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Where the client tells what reaches no caller (a line it cannot read, a restart that failed). */
export interface HelperLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface HelperProcessOptions {
  /** What the helper is, in messages: "the process launcher". */
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Start the helper in a session of its own. */
  detached?: boolean;
  /** The helper's stderr: this process's (default), or kept so that an early exit says why. */
  stderr?: "inherit" | "capture";
  /** How long the helper has to send its ready line (default 20 s). */
  readyTimeoutMs?: number;
  /** Let this process exit while the helper runs (the child and its pipes hold no reference). */
  unref?: boolean;
  /** Start a new helper as soon as one exits (default false: requests fail from then on). */
  restart?: boolean;
  /** Messages that answer no request. */
  onEvent?: (message: HelperMessage) => void;
  /** A helper exited while in use (not after close); its unanswered requests have failed already. */
  onExit?: (exit: HelperExit) => void;
  /** The error unanswered requests fail with when the helper exits (default: "<name> exited"). */
  exitedError?: () => Error;
  log?: HelperLog;
}

export class HelperProcess {
  readonly #options: HelperProcessOptions;
  #child: ChildProcess | undefined;
  /** The helper being started, while it is. */
  #booting: Promise<void> | undefined;
  #boots = 0;
  #ready: HelperMessage = {};
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (reply: HelperMessage) => void; reject: (error: Error) => void }>();
  #closed = false;

  private constructor(options: HelperProcessOptions) {
    this.#options = options;
  }

  /** Starts the helper; rejects when it cannot run or does not say it is ready in time. */
  static async start(options: HelperProcessOptions): Promise<HelperProcess> {
    const helper = new HelperProcess(options);
    try {
      await helper.#ensureRunning();
    } catch (error) {
      helper.close();
      throw error;
    }
    return helper;
  }

  /** The helper's pid while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether a helper runs and takes requests. */
  get running(): boolean {
    return this.#child !== undefined && !this.#booting && !this.#closed;
  }

  /** How many helpers were started so far (more than one after a restart). */
  get boots(): number {
    return this.#boots;
  }

  /** The ready line of the helper that runs (or ran last). */
  get ready(): HelperMessage {
    return this.#ready;
  }

  /** Sends a request (an `id` is added) and resolves with its reply; a reply with `error` rejects. */
  async request(message: HelperMessage): Promise<HelperMessage> {
    if (this.#closed) throw new Error(`${this.#options.name} is closed`);
    if (this.#options.restart) await this.#ensureRunning();
    const stdin = this.#child?.stdin;
    if (!stdin?.writable || this.#booting) throw this.#exitedError();
    const id = this.#nextId++;
    const reply = new Promise<HelperMessage>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    stdin.write(`${JSON.stringify({ id, ...message })}\n`, (error) => {
      if (!error) return;
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      pending?.reject(this.#exitedError());
    });
    return reply;
  }

  /** Stops the helper (it exits when its stdin closes); what it started lives on. */
  close(): void {
    this.#closed = true;
    this.#child?.stdin?.end();
    this.#child = undefined;
  }

  #exitedError(): Error {
    return this.#options.exitedError?.() ?? new Error(`${this.#options.name} exited`);
  }

  #ensureRunning(): Promise<void> {
    if (this.#child && !this.#booting) return Promise.resolve();
    this.#booting ??= this.#boot().finally(() => {
      this.#booting = undefined;
    });
    return this.#booting;
  }

  #boot(): Promise<void> {
    const options = this.#options;
    const child = spawn(options.command, [...options.args], { stdio: ["pipe", "pipe", options.stderr === "capture" ? "pipe" : "inherit"], env: options.env, detached: options.detached ?? false });
    this.#child = child;
    this.#boots += 1;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-2000)));
    child.stdin?.on("error", () => undefined);
    if (options.unref) {
      child.unref();
      for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = options.readyTimeoutMs ?? 20_000;
      const timer = setTimeout(() => {
        reject(new Error(`${options.name} did not start within ${timeoutMs} ms`));
        child.kill("SIGKILL");
      }, timeoutMs);
      // The timer stays referenced: while the helper starts, it is what keeps this process waiting.
      child.once("error", (error) => {
        clearTimeout(timer);
        if (this.#child === child) this.#child = undefined;
        reject(error);
      });
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        let message: HelperMessage;
        try {
          message = JSON.parse(line) as HelperMessage;
        } catch {
          options.log?.warn({ line }, `unreadable line from ${options.name}`);
          return;
        }
        if (message.ready !== undefined) {
          clearTimeout(timer);
          this.#ready = message;
          resolve();
          return;
        }
        this.#handle(message);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited (${code ?? signal ?? "?"})${stderr.trim() ? `: ${stderr.trim()}` : ""}`));
        this.#onExit(child, { code, signal });
      });
    });
  }

  #handle(message: HelperMessage): void {
    const id = typeof message.id === "number" ? message.id : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (id === undefined || !pending) {
      this.#options.onEvent?.(message);
      return;
    }
    this.#pending.delete(id);
    if (message.error !== undefined) pending.reject(new Error(typeof message.error === "string" ? message.error : JSON.stringify(message.error)));
    else pending.resolve(message);
  }

  #onExit(child: ChildProcess, exit: HelperExit): void {
    if (this.#child === child) this.#child = undefined;
    for (const pending of this.#pending.values()) pending.reject(this.#exitedError());
    this.#pending.clear();
    if (this.#closed) return;
    this.#options.onExit?.(exit);
    // Start the next one now rather than on the next request; a failure here is retried by that request.
    if (this.#options.restart && !this.#booting) {
      this.#ensureRunning().catch((error: unknown) => this.#options.log?.error({ err: error }, `${this.#options.name} could not be restarted; the next request tries again`));
    }
  }
}
