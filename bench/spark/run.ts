/**
 * Spark benchmark, local master: the same tiny job (a SparkSession, count 1,000 rows, stop) run
 * by a bare `spark-submit` and as a `spark:` task through the real scheduler and local executor.
 * Prints, as the median of a few runs each (alternating, so load on the machine hits both alike):
 *   - time from the task's start (the attempt's recorded start) to the driver running (its
 *     SparkSession up, as the job itself reports), against the same for bare spark-submit;
 *   - Capstan's overhead: trigger-to-run-finished minus a bare spark-submit's start-to-exit (goal ≤ 1 s).
 * The Kubernetes figure (API requests per Spark task) is not measured: the k8s master is not built.
 *
 *   npx tsx bench/spark/run.ts [--runs N]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findSparkInstall, sparkEnv, sparkSubmitArgv } from "../../src/spark/index.js";
import { openHarness } from "../../test/support/platform-harness.js";

const args = process.argv.slice(2);
const RUNS = args.includes("--runs") ? Number(args[args.indexOf("--runs") + 1]) : 3;
const GOAL_OVERHEAD_MS = 1000;
const PYTHON = join(process.cwd(), ".venv", "bin", "python");

const JOB = `
import json, os, sys, time
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
print(f"driver-running {time.time() * 1000:.0f}", flush=True)
spark.range(1000).count()
spark.stop()
`;
const CONF = { "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "1" };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const driverRunningAt = (log: string) => Number(/driver-running (\d+)/.exec(log)?.[1] ?? NaN);

async function bare(dir: string): Promise<{ toDriverMs: number; wallMs: number }> {
  const install = findSparkInstall(PYTHON);
  if (!install) throw new Error("pyspark is not in .venv: run scripts/setup-python.sh --spark");
  const spec = { application: "job.py", conf: CONF, packages: [], pyFiles: [], driver: {}, executor: {} };
  const argv = sparkSubmitArgv(spec, { sparkSubmit: install.sparkSubmit, baseDir: dir, master: "local[1]", appName: "bench", args: [] });
  const env = { ...process.env, ...sparkEnv({}, { sparkHome: install.sparkHome, python: PYTHON }, "local[1]") };
  const started = Date.now();
  let out = "";
  const child = spawn(argv[0] ?? "", argv.slice(1), { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.resume();
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`bare spark-submit exited ${String(code)}`);
  return { toDriverMs: driverRunningAt(out) - started, wallMs: Date.now() - started };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "capstan-bench-spark-"));
  writeFileSync(join(dir, "job.py"), JOB);
  const h = await openHarness({
    pipelines: {
      "job.py": JOB,
      "bench.yaml": `id: spark-bench\ntasks:\n  job:\n    spark:\n      application: job.py\n      master: local[1]\n      conf: ${JSON.stringify(CONF)}\n`,
    },
  });
  const bareRuns: { toDriverMs: number; wallMs: number }[] = [];
  const capstanRuns: { toDriverMs: number; wallMs: number }[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      bareRuns.push(await bare(dir));
      const triggered = Date.now();
      const run = await h.platform.scheduler.trigger("spark-bench");
      const finished = await h.waitForRun(run.id, 300_000);
      const wallMs = (finished.endedAt ?? Date.now()) - triggered;
      if (finished.state !== "success") throw new Error(`the spark task's run ended ${finished.state}`);
      const attempt = await h.platform.store.attempts.get({ runId: run.id, taskId: "job", tryNumber: 1 });
      const log = readFileSync(attempt?.logPath ?? "", "utf8");
      capstanRuns.push({ toDriverMs: driverRunningAt(log) - (attempt?.startedAt ?? triggered), wallMs });
      console.log(`run ${i + 1}: bare ${bareRuns[i]?.wallMs} ms (driver at ${bareRuns[i]?.toDriverMs} ms), capstan ${wallMs} ms (driver at ${capstanRuns[i]?.toDriverMs} ms after the attempt started)`);
    }
  } finally {
    await h.close();
  }
  const bareWall = median(bareRuns.map((r) => r.wallMs));
  const capstanWall = median(capstanRuns.map((r) => r.wallMs));
  const overhead = median(capstanRuns.map((r, i) => r.wallMs - (bareRuns[i]?.wallMs ?? 0)));
  console.log("");
  console.log(`spark local[1], median of ${RUNS}:`);
  console.log(`  task start → driver running:   capstan ${median(capstanRuns.map((r) => r.toDriverMs))} ms, bare spark-submit ${median(bareRuns.map((r) => r.toDriverMs))} ms`);
  console.log(`  whole job:                     capstan ${capstanWall} ms (trigger → run finished), bare ${bareWall} ms`);
  console.log(`  Capstan's overhead:            ${overhead} ms (goal ≤ ${GOAL_OVERHEAD_MS} ms) ${overhead <= GOAL_OVERHEAD_MS ? "ok" : "OVER"}`);
  console.log("  Kubernetes (API requests per Spark task): not measured yet (docs/spark.md)");
}

await main();
