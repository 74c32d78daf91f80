/**
 * The reference pipeline at size full (about 50k users, 10k restaurants, 2M visits) on the embedded
 * default: each stage's wall time and peak memory, and precision@10 against both baselines.
 *
 *   npx tsx bench/similar-users/run.ts [--size small|full]
 */
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pino from "pino";
import { loadConfig } from "../../src/config/index.js";
import { Platform } from "../../src/wiring/index.js";
import type { StateChange } from "../../src/scheduler/index.js";
import { isFinishedRun } from "../../src/store/index.js";

const sizeFlag = process.argv.indexOf("--size");
const size = sizeFlag > 0 ? (process.argv[sizeFlag + 1] ?? "full") : "full";
const root = resolve(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "capstan-bench-similar-users-"));
mkdirSync(join(dir, "results"));

const config = loadConfig({ home: join(dir, "home"), pipelines: [join(root, "examples", "similar-users")] }, process.env, root);
const platform = await Platform.open({ config, logger: pino({ level: "silent" }) });
await platform.start();
const keepAlive = setInterval(() => undefined, 60_000);
try {
  console.log(`similar-users at size ${size} (load average ${loadavg().map((l) => l.toFixed(1)).join(" ")})`);
  const started = performance.now();
  const run = await platform.scheduler.trigger("similar-users", { params: { size, results_dir: join(dir, "results") } });
  await new Promise<void>((done) => {
    const listener = (change: StateChange) => {
      if (change.kind === "task" && change.runId === run.id && ["success", "failed"].includes(change.state)) console.log(`  ${change.taskId} ${change.state}`);
      if (change.kind === "run" && change.runId === run.id && isFinishedRun(change.state)) {
        platform.scheduler.events.off("change", listener);
        done();
      }
    };
    platform.scheduler.events.on("change", listener);
  });
  const wall = (performance.now() - started) / 1000;
  const final = await platform.store.runs.get(run.id);
  const tasks = await platform.store.tasks.listByRun(run.id);
  const attempts = await platform.store.attempts.listByRun(run.id);
  console.log(`\nrun ${run.id}: ${final?.state} in ${wall.toFixed(1)} s\n`);
  console.log("stage        wall s   in-task s   peak RSS MiB");
  for (const taskId of ["datasource", "datamart", "features", "train", "predict", "evaluate", "publish"]) {
    const ti = tasks.find((t) => t.taskId === taskId);
    const attempt = attempts.filter((a) => a.taskId === taskId).at(-1);
    const wallS = attempt?.endedAt ? (attempt.endedAt - attempt.startedAt) / 1000 : NaN;
    const outputs = ti?.outputs ?? {};
    const inTask = typeof outputs.seconds === "number" ? outputs.seconds.toFixed(1) : "-";
    const rss = typeof outputs.peak_rss_mb === "number" ? outputs.peak_rss_mb.toFixed(0) : "-";
    console.log(`${taskId.padEnd(12)} ${wallS.toFixed(1).padStart(6)}   ${inTask.padStart(9)}   ${rss.padStart(12)}`);
  }
  const evaluation = tasks.find((t) => t.taskId === "evaluate")?.outputs ?? {};
  const f = (v: unknown) => (typeof v === "number" ? v.toFixed(4) : "-");
  console.log(`\nprecision@10 ${f(evaluation.precision_at_k)}; raw-count cosine baseline ${f(evaluation.raw_counts_precision_at_k)}; random neighbours ${f(evaluation.random_precision_at_k)}`);
} finally {
  clearInterval(keepAlive);
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
}
