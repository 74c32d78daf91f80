/**
 * Reading task logs: a byte range of a log file, and following a log while its attempt runs
 * (woken by file change events, with a slow check that the attempt has ended), with secret values
 * masked on the bytes as stored. Local tasks write straight to their log file, so masking happens
 * when a log is read, never when it is written.
 */
import { watch, type FSWatcher } from "node:fs";
import { open } from "node:fs/promises";
import { maskedRange, type SecretMask } from "../secrets/secret-mask.js";

export interface LogChunk {
  text: string;
  /** Offset to ask for next (a byte offset of the stored file). */
  next: number;
  /** Size of the file when read. */
  size: number;
}

export interface ReadOptions {
  /** Most bytes of the file one read covers (a secret that straddles the end is taken whole). */
  maxBytes?: number;
  /** Secret values to show as `***`. */
  mask?: SecretMask;
  /** The attempt may still write: hold back a tail that could be the start of a secret. */
  live?: boolean;
}

/**
 * Reads up to `maxBytes` of a log from `offset` (negative: from the end); a missing file reads as
 * empty. With a mask, the bytes around the range (the longest masked form on each side) are read
 * too, so a secret that straddles the range's start shows as `***`, one that straddles its end is
 * included whole (as `***`), and while `live` a tail that may be a secret's beginning is left for
 * the next read. `next` and `size` are byte offsets of the file as stored.
 */
export async function readLogChunk(path: string, offset = 0, options: ReadOptions = {}): Promise<LogChunk> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const mask = options.mask?.empty === false ? options.mask : undefined;
  let file;
  try {
    file = await open(path, "r");
  } catch {
    return { text: "", next: Math.max(0, offset), size: 0 };
  }
  try {
    const { size } = await file.stat();
    const start = offset < 0 ? Math.max(0, size + offset) : Math.min(offset, size);
    const context = mask?.longestBytes ?? 0;
    const windowStart = Math.max(0, start - context);
    const windowEnd = Math.min(size, start + maxBytes + context);
    const buffer = Buffer.alloc(windowEnd - windowStart);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, windowStart);
    const bytes = buffer.subarray(0, bytesRead);
    const from = start - windowStart;
    let to = Math.min(bytes.length, from + maxBytes);
    // Do not split a UTF-8 character: stop before an incomplete trailing sequence.
    if (windowStart + to < size) {
      let back = 0;
      while (back < 3 && to - back - 1 > from && ((bytes[to - back - 1] ?? 0) & 0xc0) === 0x80) back++;
      const lead = bytes[to - back - 1] ?? 0;
      const needed = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (needed > back + 1 && to - back - 1 > from) to = to - back - 1;
    }
    if (!mask) return { text: bytes.toString("utf8", from, to), next: start + (to - from), size };
    const covered = mask.coverage(bytes);
    // A secret that straddles the end is taken whole, so the next read does not start inside it.
    for (const [s, e] of covered) if (s < to && e > to) to = e;
    if (options.live && windowStart + bytes.length === size) {
      let unfinished = mask.unfinishedFrom(bytes);
      // Hold back a whole occurrence that the unfinished tail begins inside of.
      for (const [s, e] of covered) if (s < unfinished && e > unfinished) unfinished = s;
      to = Math.max(from, Math.min(to, unfinished));
    }
    return { text: maskedRange(bytes, from, to, covered), next: start + (to - from), size };
  } finally {
    await file.close();
  }
}

export interface FollowOptions {
  offset?: number;
  /** True once the attempt has ended and no more output will come. */
  isDone: () => Promise<boolean>;
  /** Masked text and the offset after it. */
  onData: (text: string, next: number) => void;
  /** The secret values to mask, asked for before each read (so a secret set meanwhile is masked). */
  mask?: () => Promise<SecretMask>;
  signal?: AbortSignal;
  /** How often the end of the attempt is checked (file events wake reads sooner). */
  checkMs?: number;
}

/**
 * Streams a log as it grows until the attempt ends (then the rest is read) or the signal aborts;
 * while it runs, a tail that may be the beginning of a secret is sent only once it is complete.
 */
export async function followLog(path: string, options: FollowOptions): Promise<number> {
  let offset = options.offset ?? 0;
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  const attachWatcher = () => {
    if (watcher) return;
    try {
      watcher = watch(path, () => wake?.());
      watcher.on("error", () => undefined);
    } catch {
      // the file does not exist yet; retried on the next round
    }
  };
  const drain = async (live: boolean) => {
    for (;;) {
      const mask = await options.mask?.();
      const chunk = await readLogChunk(path, offset, { ...(mask ? { mask } : {}), live });
      if (chunk.text.length > 0) options.onData(chunk.text, chunk.next);
      const moved = chunk.next > offset;
      offset = chunk.next;
      if (!moved || chunk.next >= chunk.size) return;
    }
  };
  // One listener for the whole follow (one per wait would pile up on a long-running attempt).
  const onAbort = () => wake?.();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (!options.signal?.aborted) {
      attachWatcher();
      await drain(true);
      if (await options.isDone()) {
        await drain(false);
        break;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.checkMs ?? 500);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    watcher?.close();
  }
  return offset;
}
