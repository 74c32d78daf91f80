/**
 * `spark:` tasks with a local master, run by the real scheduler and the local executor with the
 * venv's pyspark (scripts/setup-python.sh --test) on this machine's Java: args templated into the
 * job, its outputs; a failed job's reason is the driver's exception line; a running job's Spark UI
 * URL reaches the task's detail and answers on loopback; a scheduler restarted while the job runs
 * adopts it, and cancel then leaves no JVM or Python worker of the attempt. The three jobs are tiny
 * and start at once, so the file pays for one JVM start.
 */
import { readFileSync } from "node:fs";
import pino from "pino";
import { loadConfig } from "../../src/config/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pidsWithToken } from "../../src/executors/local/process-info.js";
import { taskDetail } from "../../src/operations/index.js";
import { platformContext } from "../../src/operations/platform-context.js";
import type { Run } from "../../src/store/index.js";
import { Platform } from "../../src/wiring/index.js";
import { eventually } from "../support/eventually.js";
import { openHarness, type Harness } from "../support/platform-harness.js";

const TIMEOUT = 240_000;

const JOB = `
import json, os, sys, time
from pyspark.sql import SparkSession

mode, rows = sys.argv[1], int(sys.argv[2])
spark = SparkSession.builder.getOrCreate()
count = spark.range(rows).count()
if mode == "fail":
    spark.sql("select * from no_such_table").collect()
if mode == "wait":
    # a Python worker of the job, so cancel has one to leave behind if it could
    spark.sparkContext.parallelize([1], 1).map(lambda x: x).collect()
    print("waiting", flush=True)
    time.sleep(600)
with open(os.environ["CAPSTAN_OUTPUT"], "w") as out:
    json.dump({"rows": count}, out)
spark.stop()
`;

const pipeline = (id: string, mode: string, ui: boolean) => `id: ${id}
params: { rows: 7 }
tasks:
  job:
    spark:
      application: job.py
      master: local[1]
      conf: { spark.ui.enabled: "${String(ui)}", spark.sql.shuffle.partitions: "1" }
      driver: { memory: 512Mi }
    args: [${mode}, "{{ params.rows }}"]
`;

let h: Harness;
/** The platform after the restart of the last case (closed in afterAll). */
let reopened: Platform | undefined;
const runs: Record<string, Run> = {};

beforeAll(async () => {
  h = await openHarness({
    pipelines: { "job.py": JOB, "ok.yaml": pipeline("spark-ok", "ok", false), "fail.yaml": pipeline("spark-fail", "fail", false), "wait.yaml": pipeline("spark-wait", "wait", true) },
  });
  for (const id of ["spark-ok", "spark-fail", "spark-wait"]) runs[id] = await h.platform.scheduler.trigger(id, { params: { rows: 11 } });
}, TIMEOUT);

afterAll(async () => {
  // Whatever a failed case left, no job of this file runs on.
  for (const run of Object.values(runs)) {
    const attempt = await (reopened ?? h.platform).store.attempts.get({ runId: run.id, taskId: "job", tryNumber: 1 });
    for (const pid of attempt ? await pidsWithToken(attempt.token) : []) process.kill(pid, "SIGKILL");
  }
  if (reopened) await reopened.close();
  else await h.close();
});

describe("spark tasks with a local master", () => {
  it("run the job with templated args and keep its outputs", { timeout: TIMEOUT }, async () => {
    const run = await h.waitForRun(runs["spark-ok"]?.id ?? "", TIMEOUT);
    const ti = await h.platform.store.tasks.get({ runId: run.id, taskId: "job" });
    expect({ state: ti?.state, outputs: ti?.outputs }).toEqual({ state: "success", outputs: { rows: 11 } });
  });

  it("fail with the driver's exception line as the reason", { timeout: TIMEOUT }, async () => {
    const run = await h.waitForRun(runs["spark-fail"]?.id ?? "", TIMEOUT);
    const ti = await h.platform.store.tasks.get({ runId: run.id, taskId: "job" });
    expect(ti?.state).toBe("failed");
    expect(ti?.reason).toMatch(/^exit code 1: AnalysisException: \[TABLE_OR_VIEW_NOT_FOUND\] The table or view `no_such_table` cannot be found/);
  });

  it("show the running job's Spark UI, are adopted by a restarted scheduler, and leave no JVM or Python worker when cancelled", { timeout: TIMEOUT }, async () => {
    const runId = runs["spark-wait"]?.id ?? "";
    await h.waitForTask(runId, "job", ["running"], TIMEOUT);
    const attempt = await h.platform.store.attempts.get({ runId, taskId: "job", tryNumber: 1 });
    const logPath = attempt?.logPath ?? "";
    await eventually("the job waits", () => readFileSync(logPath, "utf8").includes("waiting\n") || undefined, TIMEOUT);
    const detail = await taskDetail(platformContext(h.platform), runId, "job");
    expect(detail.spark_ui_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${detail.spark_ui_url ?? ""}/jobs/`, { signal: AbortSignal.timeout(60_000) })).status).toBe(200);

    const commands = async () => (await pidsWithToken(attempt?.token ?? "")).map((pid) => readCommand(pid)).join("\n");
    const running = await commands();
    expect(running).toMatch(/java.*org\.apache\.spark\.deploy\.SparkSubmit/);
    expect(running).toMatch(/pyspark\.daemon|pyspark\.worker|job\.py/);

    // The scheduler stops (the job runs on) and a new one adopts the job, then cancels it.
    await h.close();
    const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
    config.killGraceMs = 2000;
    reopened = await Platform.open({ config, logger: pino({ level: process.env.CAPSTAN_TEST_LOG ?? "silent" }) });
    await reopened.start();
    const platform = reopened;
    expect((await platform.store.attempts.get({ runId, taskId: "job", tryNumber: 1 }))?.state).toBe("running");
    expect((await taskDetail(platformContext(platform), runId, "job")).spark_ui_url).toBe(detail.spark_ui_url);

    await platform.scheduler.cancel(runId);
    await eventually("the attempt ended", async () => {
      const ended = await platform.store.attempts.get({ runId, taskId: "job", tryNumber: 1 });
      return ended !== undefined && !["launching", "running"].includes(ended.state) ? ended : undefined;
    }, TIMEOUT);
    expect((await platform.store.tasks.get({ runId, taskId: "job" }))?.state).toBe("cancelled");
    await eventually("no process of the attempt is left", async () => ((await pidsWithToken(attempt?.token ?? "")).length === 0 ? true : undefined), TIMEOUT);
    expect((await taskDetail(platformContext(platform), runId, "job")).spark_ui_url).toBeUndefined();
  });
});

function readCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
