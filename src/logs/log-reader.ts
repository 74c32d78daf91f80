/**
 * Reading task logs: a byte range of a log file, and following a log while its attempt runs
 * (woken by file change events, with a slow check that the attempt has ended).
 */
import { watch, type FSWatcher } from "node:fs";
import { open } from "node:fs/promises";

export interface LogChunk {
  text: string;
  /** Offset to ask for next. */
  next: number;
  /** Size of the file when read. */
  size: number;
}

/** Reads up to `maxBytes` of a log from `offset`; a missing file reads as empty. */
export async function readLogChunk(path: string, offset = 0, maxBytes = 1024 * 1024): Promise<LogChunk> {
  let file;
  try {
    file = await open(path, "r");
  } catch {
    return { text: "", next: offset, size: 0 };
  }
  try {
    const { size } = await file.stat();
    const start = offset < 0 ? Math.max(0, size + offset) : Math.min(offset, size);
    const length = Math.min(maxBytes, size - start);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, start);
    // Do not split a UTF-8 character: stop before an incomplete trailing sequence.
    let end = bytesRead;
    if (start + bytesRead < size) {
      let back = 0;
      while (back < 4 && end - back - 1 >= 0 && ((buffer[end - back - 1] ?? 0) & 0xc0) === 0x80) back++;
      const lead = buffer[end - back - 1] ?? 0;
      if (lead >= 0xc0) end = end - back - 1;
    }
    return { text: buffer.subarray(0, end).toString("utf8"), next: start + end, size };
  } finally {
    await file.close();
  }
}

export interface FollowOptions {
  offset?: number;
  /** True once the attempt has ended and no more output will come. */
  isDone: () => Promise<boolean>;
  onData: (text: string) => void;
  signal?: AbortSignal;
  /** How often the end of the attempt is checked (file events wake reads sooner). */
  checkMs?: number;
}

/** Streams a log as it grows until the attempt ends (then the rest is read) or the signal aborts. */
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
  const drain = async () => {
    for (;;) {
      const chunk = await readLogChunk(path, offset);
      if (chunk.text.length > 0) options.onData(chunk.text);
      offset = chunk.next;
      if (chunk.next >= chunk.size) return;
    }
  };
  try {
    while (!options.signal?.aborted) {
      attachWatcher();
      await drain();
      if (await options.isDone()) {
        await drain();
        break;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.checkMs ?? 500);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        options.signal?.addEventListener("abort", () => wake?.(), { once: true });
      });
      wake = undefined;
    }
  } finally {
    watcher?.close();
  }
  return offset;
}
