/**
 * Large Kafka batches as a file: a batch of more than 1,000 messages, or whose messages come to
 * more than 1 MiB as JSON, is written as JSON lines into the run's artifacts folder before the run
 * is stored, and the run's params name the file instead of carrying the messages. The run's id
 * and the file's name both come from the run key, so a batch read again after a crash writes the
 * same file into the same folder (atomically, by rename) and is refused as a run a second time.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** When a batch goes to a file instead of params. */
export interface BatchFileThresholds {
  /** More messages than this: a file. */
  maxInlineMessages: number;
  /** Messages (and rejections) over this many bytes of JSON: a file. */
  maxInlineBytes: number;
}

export const DEFAULT_BATCH_FILE_THRESHOLDS: BatchFileThresholds = { maxInlineMessages: 1_000, maxInlineBytes: 1024 * 1024 };

/** The id of a run whose batch is in a file: the pipeline and a hash of the run key, the same after a crash. */
export function batchRunId(pipelineId: string, runKey: string): string {
  return `${pipelineId}-kafka-${hashOf(runKey)}`;
}

/** The file names of a batch, from its run key. */
export function batchFileNames(runKey: string): { messages: string; rejected: string } {
  const hash = hashOf(runKey);
  return { messages: `kafka-messages-${hash}.jsonl`, rejected: `kafka-rejected-${hash}.jsonl` };
}

/** Whether a batch of `count` messages and rejections, `bytes` long as JSON, goes to a file. */
export function needsBatchFile(count: number, bytes: number, thresholds: BatchFileThresholds): boolean {
  return count > thresholds.maxInlineMessages || bytes > thresholds.maxInlineBytes;
}

/**
 * Writes `lines` (each one JSON value) to `dir/name`, one a line, and syncs it to disk before it
 * takes the name, so the file is whole or absent. Readable by the task user (the folder is
 * inside the home, which only the platform can reach; the task boundary shows a task its own run's folder).
 */
export async function writeJsonLines(dir: string, name: string, lines: readonly string[]): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const path = join(dir, name);
  const temporary = join(dir, `.${name}.${randomBytes(4).toString("hex")}.tmp`);
  const file = await open(temporary, "w", 0o644);
  try {
    const chunk: string[] = [];
    let size = 0;
    for (const line of lines) {
      chunk.push(line, "\n");
      size += line.length + 1;
      if (size >= 1024 * 1024) {
        await file.write(chunk.join(""));
        chunk.length = 0;
        size = 0;
      }
    }
    if (chunk.length > 0) await file.write(chunk.join(""));
    await file.sync();
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  await rename(temporary, path);
  return path;
}

function hashOf(runKey: string): string {
  return createHash("sha256").update(runKey).digest("hex").slice(0, 20);
}
