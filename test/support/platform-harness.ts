/**
 * Test harness: a temporary home and pipelines folder, a platform opened on it (SQLite by default,
 * PostgreSQL when given a URL), and waits driven by the scheduler's change events.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { Clock } from "../../src/clock/index.js";
import { loadConfig, type CapstanConfig } from "../../src/config/index.js";
import type { Executor } from "../../src/executors/index.js";
import { Platform } from "../../src/platform/index.js";
import type { StateChange } from "../../src/scheduler/index.js";
import { isFinishedRun, type Run } from "../../src/store/index.js";

export interface Harness {
  dir: string;
  home: string;
  pipelinesDir: string;
  platform: Platform;
  writePipeline(name: string, text: string): string;
  waitForRun(runId: string, timeoutMs?: number): Promise<Run>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  databaseUrl?: string;
  clock?: Clock;
  pipelines?: Record<string, string>;
  configure?: (config: CapstanConfig) => void;
  executors?: Map<string, Executor>;
  start?: boolean;
}

export function tempDir(prefix = "capstan-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function openHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = tempDir();
  const home = join(dir, "home");
  const pipelinesDir = join(dir, "pipelines");
  mkdirSync(pipelinesDir, { recursive: true });
  const writePipeline = (name: string, text: string) => {
    const file = join(pipelinesDir, name);
    writeFileSync(file, text);
    return file;
  };
  for (const [name, text] of Object.entries(options.pipelines ?? {})) writePipeline(name, text);
  const config = loadConfig({ home, pipelines: [pipelinesDir], ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}) }, {}, dir);
  config.killGraceMs = 2000;
  options.configure?.(config);
  const platform = await Platform.open({
    config,
    logger: pino({ level: process.env.CAPSTAN_TEST_LOG ?? "silent" }),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.executors ? { executors: options.executors } : {}),
  });
  if (options.start !== false) await platform.start();

  const waitForRun = async (runId: string, timeoutMs = 60_000): Promise<Run> => {
    const finished = async () => {
      const run = await platform.store.runs.get(runId);
      return run && isFinishedRun(run.state) ? run : undefined;
    };
    const done = await finished();
    if (done) return done;
    return new Promise<Run>((resolve, reject) => {
      const timer = setTimeout(() => {
        platform.scheduler.events.off("change", onChange);
        reject(new Error(`run ${runId} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      const onChange = (change: StateChange) => {
        if (change.kind !== "run" || change.runId !== runId || !isFinishedRun(change.state)) return;
        clearTimeout(timer);
        platform.scheduler.events.off("change", onChange);
        void platform.store.runs.get(runId).then((run) => (run ? resolve(run) : reject(new Error("run vanished"))), reject);
      };
      platform.scheduler.events.on("change", onChange);
    });
  };

  return { dir, home, pipelinesDir, platform, writePipeline, waitForRun, close: () => platform.close() };
}
