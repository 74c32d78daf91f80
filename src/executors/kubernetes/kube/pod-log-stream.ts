/**
 * Copies a pod container's log into Capstan's log file while the pod runs, and completes it after
 * the pod ended. Lines are requested with timestamps, so when the follow drops and reconnects (or
 * the final read after the end overlaps what was streamed) every line is written once: a line is
 * new when its timestamp is later than the last one written, or when more lines carry that same
 * timestamp than were written. The timestamps are not written to the file.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { createWriteStream, statSync, truncateSync, type WriteStream } from "node:fs";
import { requestPodLog, type PodLogRequest } from "./pod-log-request.js";
import type { RequestCounter } from "./request-counter.js";

export interface PodLogStreamOptions {
  /** The cluster's configuration (server, credentials, TLS). */
  config: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
  /** The attempt's log file. */
  path: string;
  counter: RequestCounter;
  /**
   * Replace the file's content with the log from the API server once it answers (after a restart,
   * when what was written before cannot be matched line by line).
   */
  replace?: boolean;
  /** With `replace`, the bytes at the head of the file that stay (what precedes the container's log there). */
  keep?: number;
  /** Delays between reconnects of the follow. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const STAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) (.*)$/s;

/** A comparable key of an RFC3339(Nano) timestamp, in nanoseconds. */
function stampKey(seconds: string, fraction: string | undefined, zone: string): bigint | undefined {
  const ms = Date.parse(`${seconds}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((fraction ?? "").padEnd(9, "0"));
}

/** One container's log, streamed into a file without duplicates. */
export class PodLogStream {
  readonly #options: PodLogStreamOptions;
  #file: WriteStream | undefined;
  #replacePending: boolean;
  /** Timestamp of the last line written, and how many lines with that timestamp were written. */
  #lastKey: bigint | undefined;
  #lastSeconds: string | undefined;
  #countAtLast = 0;
  #following: Promise<void> | undefined;
  #current: PodLogRequest | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #bytes = 0;

  constructor(options: PodLogStreamOptions) {
    this.#options = options;
    this.#replacePending = options.replace === true;
  }

  /** Bytes written to the file so far. */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /** Starts following the log (reconnecting when the stream drops) until `finish` or `stop`. */
  follow(): void {
    if (this.#following || this.#stopped) return;
    this.#following = this.#followLoop();
  }

  async #followLoop(): Promise<void> {
    let backoff = this.#options.initialBackoffMs ?? 500;
    while (!this.#stopped) {
      let ok = false;
      try {
        await this.#request(true);
        ok = true;
      } catch {
        ok = false;
      }
      if (this.#stopped) break;
      // A stream that ended on its own may mean the container exited: the watch will say so and
      // `finish` reads the rest; until then follow again.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ok ? 200 : backoff);
        timer.unref();
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
      backoff = ok ? (this.#options.initialBackoffMs ?? 500) : Math.min(backoff * 2, this.#options.maxBackoffMs ?? 10_000);
    }
  }

  /**
   * Stops following and reads what is left of the log with one request (when `readRest`), then
   * closes the file. Resolves once the file holds everything written.
   */
  async finish(options: { readRest: boolean; timeoutMs: number }): Promise<void> {
    this.#stopped = true;
    this.#current?.abort();
    this.#wake?.();
    await this.#following?.catch(() => undefined);
    if (options.readRest) {
      try {
        await this.#request(false, options.timeoutMs);
      } catch {
        // The pod may be gone already; what was streamed is kept.
      }
    }
    await this.#close();
  }

  /** Stops following without reading further (the scheduler is shutting down). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#current?.abort();
    this.#wake?.();
    await this.#following?.catch(() => undefined);
    await this.#close();
  }

  async #close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (file) await new Promise<void>((resolve) => file.end(resolve));
  }

  #open(): WriteStream {
    if (!this.#file) {
      const keep = this.#options.keep ?? 0;
      let flags = this.#replacePending ? "w" : "a";
      if (this.#replacePending && keep > 0) {
        try {
          truncateSync(this.#options.path, Math.min(keep, statSync(this.#options.path).size));
          flags = "a";
        } catch {
          // no file yet: nothing to keep
        }
      }
      this.#file = createWriteStream(this.#options.path, { flags });
      this.#file.on("error", () => undefined);
      this.#replacePending = false;
    }
    return this.#file;
  }

  /** One log request; resolves when its body ends, the connection drops, or it is aborted. */
  async #request(follow: boolean, timeoutMs?: number): Promise<void> {
    const { config, namespace, pod, container, counter } = this.#options;
    const startKey = this.#lastKey;
    const startCount = this.#countAtLast;
    let seenAtStart = 0;
    let partial = "";
    const accept = (line: string) => {
      const match = STAMPED.exec(line);
      if (!match) {
        this.#write(`${line}\n`);
        return;
      }
      const [, seconds = "", fraction, zone = "Z", text = ""] = match;
      const key = stampKey(seconds, fraction, zone);
      if (key === undefined) {
        this.#write(`${text}\n`);
        return;
      }
      if (startKey !== undefined && key < startKey) return;
      if (startKey !== undefined && key === startKey) {
        seenAtStart += 1;
        if (seenAtStart <= startCount) return;
      }
      if (this.#lastKey !== undefined && key === this.#lastKey) this.#countAtLast += 1;
      else {
        this.#lastKey = key;
        this.#lastSeconds = `${seconds}${zone}`;
        this.#countAtLast = 1;
      }
      this.#write(`${text}\n`);
    };
    counter.count("log");
    const since = this.#lastSeconds;
    const request = await requestPodLog(
      config,
      // Whole seconds: the server may drop the fraction, and lines already written are skipped.
      { namespace, pod, container, follow, timestamps: true, ...(since !== undefined ? { sinceTime: since } : {}) },
      (chunk) => {
        partial += chunk.toString("utf8");
        let newline = partial.indexOf("\n");
        while (newline >= 0) {
          accept(partial.slice(0, newline));
          partial = partial.slice(newline + 1);
          newline = partial.indexOf("\n");
        }
      },
    );
    this.#current = request;
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => request.abort(), timeoutMs);
      timer.unref();
    }
    if (this.#stopped && follow) request.abort();
    try {
      await request.done;
    } finally {
      if (timer) clearTimeout(timer);
      if (this.#current === request) this.#current = undefined;
      // A last line without its newline (the stream was cut) is dropped: the next read has it whole.
    }
  }

  #write(text: string): void {
    this.#bytes += Buffer.byteLength(text);
    this.#open().write(text);
  }

  /** Appends a line of Capstan's own (failure diagnostics) after the container's log. */
  async note(text: string): Promise<void> {
    const file = createWriteStream(this.#options.path, { flags: "a" });
    await new Promise<void>((resolve) => {
      file.on("error", () => resolve());
      file.end(text.endsWith("\n") ? text : `${text}\n`, resolve);
    });
  }
}
