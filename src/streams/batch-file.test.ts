/** Large batches as files: names and run ids from the run key, and a write that is whole or absent. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { batchFileNames, batchRunId, DEFAULT_BATCH_FILE_THRESHOLDS, needsBatchFile, writeJsonLines } from "./batch-file.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("batch files", () => {
  it("takes the run id and file names from the run key, so a batch read again lands in the same folder and file", () => {
    const key = "kafka:events:g:clicks:0:0-1499";
    expect(batchRunId("p", key)).toBe(batchRunId("p", key));
    expect(batchRunId("p", key)).toMatch(/^p-kafka-[0-9a-f]{20}$/);
    expect(batchRunId("p", key)).not.toBe(batchRunId("p", "kafka:events:g:clicks:0:0-1498"));
    expect(batchFileNames(key).messages).toMatch(/^kafka-messages-[0-9a-f]{20}\.jsonl$/);
  });

  it("goes to a file above 1,000 messages or 1 MiB", () => {
    expect(needsBatchFile(1_000, 10, DEFAULT_BATCH_FILE_THRESHOLDS)).toBe(false);
    expect(needsBatchFile(1_001, 10, DEFAULT_BATCH_FILE_THRESHOLDS)).toBe(true);
    expect(needsBatchFile(1, 1024 * 1024 + 1, DEFAULT_BATCH_FILE_THRESHOLDS)).toBe(true);
  });

  it("writes one JSON value a line, replaces an earlier file whole, and leaves no temporary file", async () => {
    const root = mkdtempSync(join(tmpdir(), "capstan-batch-"));
    dirs.push(root);
    const dir = join(root, "artifacts", "run-1");
    const lines = Array.from({ length: 3_000 }, (_, i) => JSON.stringify({ n: i, pad: "x".repeat(500) }));
    const path = await writeJsonLines(dir, "kafka-messages-a.jsonl", lines);
    expect(await writeJsonLines(dir, "kafka-messages-a.jsonl", lines)).toBe(path);
    expect(readFileSync(path, "utf8")).toBe(lines.join("\n") + "\n");
    expect(readdirSync(dir)).toEqual(["kafka-messages-a.jsonl"]);
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });
});
