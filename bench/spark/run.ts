/**
 * Spark benchmark, local master: the same tiny job (a SparkSession, count 1,000 rows, stop) run
 * by a bare `spark-submit` and as a `spark:` task through the real scheduler and local executor.
 * Prints, as the median of a few runs each (alternating, so load on the machine hits both alike):
 *   - time from the task's start (the attempt's recorded start) to the driver running (its
 *     SparkSession up, as the job itself reports), against the same for bare spark-submit;
 *   - Capstan's overhead: trigger-to-run-finished minus a bare spark-submit's start-to-exit (goal ≤ 1 s).
 * Then, for master k8s (bench/spark/k8s.ts), `spark:` tasks one after another through the
 * Kubernetes executor against the test control plane, and Capstan's API requests per Spark task,
 * counted client-side as bench/kubernetes counts them.
 *
 *   npx tsx bench/spark/run.ts [--runs N] [--k8s-tasks N]
 *
 * Like bench/kubernetes, uses the control plane named by CAPSTAN_TEST_KUBECONFIG, else starts one
 * (and stops it).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findSparkInstall, sparkEnv, sparkSubmitArgv } from "../../src/spark/index.js";
import { acquireKubeTestenv } from "../../test/support/kube-testenv.js";
import { openHarness } from "../../test/support/platform-harness.js";
import { measureSparkK8s } from "./k8s.js";

const args = process.argv.slice(2);
const RUNS = args.includes("--runs") ? Number(args[args.indexOf("--runs") + 1]) : 3;
const K8S_TASKS = args.includes("--k8s-tasks") ? Number(args[args.indexOf("--k8s-tasks") + 1]) : 3;
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
  if (!Number.isInteger(K8S_TASKS) || K8S_TASKS < 1) throw new Error("--k8s-tasks must be a whole number ≥ 1");
  const env = await acquireKubeTestenv();
  try {
    await measure(env);
  } finally {
    await env.stop();
  }
}

async function measure(env: Awaited<ReturnType<typeof acquireKubeTestenv>>): Promise<void> {
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

  const k8s = await measureSparkK8s(env, dir, PYTHON, K8S_TASKS);
  const k = k8s.counts.byKind;
  const per = (n: number | undefined) => ((n ?? 0) / k8s.tasks).toFixed(2);
  const shared = (k.list ?? 0) + (k.watch ?? 0);
  const perTaskReads = k8s.counts.reads - shared - (k.log ?? 0);
  console.log("");
  console.log(`spark master k8s, ${k8s.tasks} tasks one after another, kube-apiserver ${env.server} (kwok plays the kubelet; the driver "runs" 0.3 s):`);
  console.log(`  ${k8s.succeeded}/${k8s.tasks} tasks succeeded; queued → task ended, median ${(k8s.taskMs / 1000).toFixed(1)} s (mostly spark-submit's JVM)`);
  console.log(`  Capstan's API requests per Spark task (client-side count, ${k8s.counts.reads + k8s.counts.writes} in all):`);
  console.log(`    writes                           ${per(k8s.counts.writes)}   (create ${per(k.create)}, delete ${per(k.delete)}, patch ${per(k.patch)}, update ${per(k.update)})`);
  console.log(`    reads of single objects          ${per(perTaskReads)}   (get ${per(k.get)}, events ${per(k.events)})`);
  console.log(`    log streaming                    ${per(k.log)}`);
  console.log(`    shared watch, whole run          ${shared}        (list ${k.list ?? 0}, watch connections ${k.watch ?? 0})`);
  const made = Object.entries(k8s.submitObjects).map(([kind, n]) => `${n.toFixed(2)} ${kind}`).join(", ");
  console.log(`  spark-submit's own requests (its JVM's client) are not counted; it created per task (each one create at least): ${made}`);
}

await main();
