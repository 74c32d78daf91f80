/**
 * Test harness: a temporary home and pipelines folder, a platform opened on it (SQLite by default,
 * PostgreSQL when given a URL), and waits driven by the scheduler's change events.
 */
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { Clock } from "../../src/clock/index.js";
import { loadConfig, type CapstanConfig } from "../../src/config/index.js";
import type { Executor } from "../../src/executors/index.js";
import { Platform } from "../../src/wiring/index.js";
import type { StateChange } from "../../src/scheduler/index.js";
import { isFinishedRun, type Run, type TaskInstance, type TaskState } from "../../src/store/index.js";

export interface Harness {
  dir: string;
  home: string;
  pipelinesDir: string;
  platform: Platform;
  writePipeline(name: string, text: string): string;
  waitForRun(runId: string, timeoutMs?: number): Promise<Run>;
  /** Resolves with the task once it is in one of `states`. */
  waitForTask(runId: string, taskId: string, states: readonly TaskState[], timeoutMs?: number): Promise<TaskInstance>;
  /** Task states of a run by task id. */
  taskStates(runId: string): Promise<Record<string, TaskState>>;
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

/**
 * A temporary folder that tasks may write in, like /tmp: as root, tasks run as nobody. A home made
 * in it is still private (0700).
 */
export function tempDir(prefix = "capstan-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o1777);
  return dir;
}

export async function openHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = tempDir();
  const home = join(dir, "home");
  const pipelinesDir = join(dir, "pipelines");
  mkdirSync(pipelinesDir, { recursive: true });
  chmodSync(pipelinesDir, 0o1777); // the tasks' working folder, which some tests' tasks write in
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

  const waitForTask = async (runId: string, taskId: string, states: readonly TaskState[], timeoutMs = 30_000): Promise<TaskInstance> => {
    const current = async () => {
      const ti = await platform.store.tasks.get({ runId, taskId });
      return ti && states.includes(ti.state) ? ti : undefined;
    };
    const now = await current();
    if (now) return now;
    return new Promise<TaskInstance>((resolve, reject) => {
      const timer = setTimeout(() => {
        platform.scheduler.events.off("change", onChange);
        void platform.store.tasks.get({ runId, taskId }).then((ti) => reject(new Error(`task ${taskId} of ${runId} did not reach ${states.join("/")} within ${timeoutMs} ms (it is ${ti?.state ?? "missing"})`)));
      }, timeoutMs);
      const onChange = (change: StateChange) => {
        if (change.kind !== "task" || change.runId !== runId || change.taskId !== taskId || !states.includes(change.state)) return;
        clearTimeout(timer);
        platform.scheduler.events.off("change", onChange);
        void current().then((ti) => (ti ? resolve(ti) : reject(new Error(`task ${taskId} moved on from ${change.state}`))), reject);
      };
      platform.scheduler.events.on("change", onChange);
    });
  };

  const taskStates = async (runId: string) => Object.fromEntries((await platform.store.tasks.listByRun(runId)).map((t) => [t.taskId, t.state])) as Record<string, TaskState>;

  return { dir, home, pipelinesDir, platform, writePipeline, waitForRun, waitForTask, taskStates, close: () => platform.close() };
}
