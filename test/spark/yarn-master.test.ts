/**
 * `spark:` tasks with master yarn against the real YARN ResourceManager of the Hadoop minicluster
 * (scripts/hadoop-testenv), submitted by the venv's real spark-submit with the HADOOP_CONF_DIR that
 * the task's webhdfs connection gives it. The minicluster has no node manager (its web app would
 * take over the ResourceManager's REST API in one JVM), so an application is accepted and waits for
 * a container that never comes: the id, the task page's link, cancel and timeout are what is tested
 * here, not a job that runs to its end on YARN.
 *
 * Without Capstan's kill, both applications would stay ACCEPTED after spark-submit is gone (a
 * cluster-mode application outlives spark-submit by design); the cases check YARN's own state. The
 * client-mode case restarts the platform before its cancel, so the kill goes through what the
 * platform kept beside the attempt's folder, not through memory.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { checkConnection, ConnectionService } from "../../src/connections/index.js";
import { pidsWithToken } from "../../src/executors/local/process-info.js";
import { taskDetail } from "../../src/operations/index.js";
import { platformContext } from "../../src/operations/platform-context.js";
import { Platform } from "../../src/wiring/index.js";
import { eventually } from "../support/eventually.js";
import { startHadoopTestenv, type HadoopTestenv } from "../support/hadoop-testenv.js";
import { openHarness, type Harness } from "../support/platform-harness.js";

const TIMEOUT = 180_000;

const JOB = `from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
print(spark.range(5).count())
`;

/** No jars are uploaded: local: says they are on the nodes already (there are none to run them). */
const pipeline = (id: string, extra: string, connection = "lake") => `id: ${id}
team: team-a
tasks:
  job:
    spark:
      application: job.py
      master: yarn
      connection: ${connection}
      conf: { "spark.yarn.jars": "local:/opt/spark/jars/*", spark.yarn.tags: team-a-nightly }
      driver: { memory: 512Mi }
${extra}
`;

let hadoop: HadoopTestenv;
let h: Harness;
/** The platform after the client-mode case's restart (closed in afterAll). */
let reopened: Platform | undefined;
const platform = (): Platform => reopened ?? h.platform;
const runs: Record<string, string> = {};

async function appState(id: string): Promise<string | undefined> {
  const answer = await fetch(`${hadoop.resourceManagerWeb ?? ""}/ws/v1/cluster/apps/${id}/state`);
  return answer.status === 404 ? undefined : ((await answer.json()) as { state: string }).state;
}

/** The task's YARN application once spark-submit logged it, as the task's detail (and page) shows it. */
async function waitForApplication(runId: string): Promise<{ id: string; url: string; spark_ui_url: string }> {
  return eventually("spark-submit logged an application id", async () => {
    const detail = await taskDetail(platformContext(platform()), runId, "job");
    if (detail.yarn_application) return detail.yarn_application;
    if (!["none", "scheduled", "queued", "running"].includes(detail.state)) throw new Error(`the task ended (${detail.state}) before spark-submit logged an application: ${JSON.stringify(detail.attempts)}`);
    return undefined;
  }, 120_000);
}

/** The attempt's end (the run is cancelled at once; its attempt ends once spark-submit is gone and YARN has answered). */
async function attemptEnd(runId: string): Promise<{ reason: string | null; token: string }> {
  return eventually("the attempt ended", async () => {
    const attempt = await platform().store.attempts.get({ runId, taskId: "job", tryNumber: 1 });
    return attempt !== undefined && attempt.endedAt !== null ? attempt : undefined;
  }, 60_000);
}

beforeAll(async () => {
  [hadoop, h] = await Promise.all([
    startHadoopTestenv({ yarn: true }),
    openHarness({
      pipelines: {
        "job.py": JOB,
        "client.yaml": pipeline("yarn-client", ""),
        "cluster.yaml": pipeline("yarn-cluster", "      deploy_mode: cluster\n    timeout: 25s"),
        "no-rest.yaml": pipeline("yarn-no-rest", "", "lake-rpc-only"),
      },
    }),
  ]);
  const connections = new ConnectionService(h.platform.store, h.platform.secrets);
  const rpc = { url: hadoop.webhdfsUrl, default_fs: hadoop.defaultFs, resource_manager: hadoop.resourceManagerRpc ?? "" };
  await connections.set("team-a", "lake", { kind: "webhdfs", settings: { ...rpc, user: "analyst", resource_manager_url: hadoop.resourceManagerWeb ?? "" } });
  await connections.set("team-a", "lake-rpc-only", { kind: "webhdfs", settings: rpc });
  await connections.set("team-a", "lake-wrong-rm", { kind: "webhdfs", settings: { ...rpc, resource_manager_url: hadoop.webhdfsUrl } });
  // Both submissions start at once, so the file pays for the two spark-submit JVMs side by side.
  for (const id of ["yarn-client", "yarn-cluster", "yarn-no-rest"]) runs[id] = (await h.platform.scheduler.trigger(id)).id;
}, TIMEOUT);

afterAll(async () => {
  // Whatever a failed case left, no spark-submit of this file runs on.
  for (const runId of Object.values(runs)) {
    const attempt = await platform().store.attempts.get({ runId, taskId: "job", tryNumber: 1 });
    for (const pid of attempt ? await pidsWithToken(attempt.token) : []) process.kill(pid, "SIGKILL");
  }
  await Promise.all([hadoop?.close(), reopened ? reopened.close() : h?.close()]);
});

describe("spark tasks with master yarn", () => {
  it("kills a cluster-mode application when the task times out", { timeout: TIMEOUT }, async () => {
    const runId = runs["yarn-cluster"] ?? "";
    const app = await waitForApplication(runId);
    // The id is logged before the submission: the ResourceManager may not know it for a moment.
    await eventually("YARN accepted the application", async () => ((await appState(app.id)) === "ACCEPTED" ? true : undefined), 30_000);
    const end = await attemptEnd(runId);
    expect(end.reason).toMatch(/^timed out after 25s; /);
    expect(end.reason).toContain(`YARN application ${app.id} killed`);
    expect(await appState(app.id)).toBe("KILLED");
    expect((await platform().store.tasks.get({ runId, taskId: "job" }))?.state).toBe("failed");
  });

  it("show the application, and cancel after a restart kills it on YARN as well as spark-submit (client mode)", { timeout: TIMEOUT }, async () => {
    const runId = runs["yarn-client"] ?? "";
    const app = await waitForApplication(runId);
    expect(app.id).toMatch(/^application_\d+_\d+$/);
    expect(app.url).toBe(`${hadoop.resourceManagerWeb ?? ""}/cluster/app/${app.id}`);
    expect(app.spark_ui_url).toBe(`${hadoop.resourceManagerWeb ?? ""}/proxy/${app.id}/`);
    await eventually("YARN accepted the application", async () => ((await appState(app.id)) === "ACCEPTED" ? true : undefined), 30_000);
    const token = (await h.platform.store.attempts.get({ runId, taskId: "job", tryNumber: 1 }))?.token ?? "";

    // The platform stops (spark-submit waits on) and a new one adopts the attempt, then cancels it.
    await h.close();
    const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
    config.killGraceMs = 2000;
    reopened = await Platform.open({ config, logger: pino({ level: process.env.CAPSTAN_TEST_LOG ?? "silent" }) });
    await reopened.start();
    expect((await reopened.store.attempts.get({ runId, taskId: "job", tryNumber: 1 }))?.state).toBe("running");
    expect(await appState(app.id)).toBe("ACCEPTED");

    await reopened.scheduler.cancel(runId);
    const end = await attemptEnd(runId);
    expect(end.reason).toContain(`YARN application ${app.id} killed`);
    expect(await appState(app.id)).toBe("KILLED");
    expect((await reopened.store.tasks.get({ runId, taskId: "job" }))?.state).toBe("cancelled");
    // The application id stays on the task after its end.
    expect((await taskDetail(platformContext(reopened), runId, "job")).yarn_application?.id).toBe(app.id);
    await eventually("no process of the attempt is left", async () => ((await pidsWithToken(token)).length === 0 ? true : undefined), 30_000);
  });

  it("refuses master yarn when the connection names no ResourceManager REST API, saying which fields it needs", { timeout: TIMEOUT }, async () => {
    const end = await attemptEnd(runs["yarn-no-rest"] ?? "");
    expect(end.reason).toMatch(/task job: master yarn needs a webhdfs connection with resource_manager .* and resource_manager_url/);
  });

  it("has the connection test ask the ResourceManager too, so a wrong resource_manager_url shows before a cancel needs it", async () => {
    const connections = new ConnectionService(platform().store, platform().secrets);
    const good = await checkConnection(await connections.resolve("team-a", "lake"));
    expect(good).toMatchObject({ ok: true, message: "WebHDFS GETFILESTATUS / answered 200; the ResourceManager's /ws/v1/cluster/info answered 200" });
    const wrong = await checkConnection(await connections.resolve("team-a", "lake-wrong-rm"));
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toMatch(/the ResourceManager's \/ws\/v1\/cluster\/info answered (404|200 without a clusterId)/);
  });
});
