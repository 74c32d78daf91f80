/**
 * `spark:` tasks with master yarn against the real YARN ResourceManager of the Hadoop minicluster
 * (scripts/hadoop-testenv), submitted by the venv's real spark-submit with the HADOOP_CONF_DIR that
 * the task's webhdfs connection gives it. The minicluster has no node manager (its web app would
 * take over the ResourceManager's REST API in one JVM), so an application is accepted and waits for
 * a container that never comes: the id, the task page's link, cancel and timeout are what is tested
 * here, not a job that runs to its end on YARN.
 *
 * Without Capstan's kill, both applications would stay ACCEPTED after spark-submit is gone (a
 * cluster-mode application outlives spark-submit by design); the cases check YARN's own state.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pidsWithToken } from "../../src/executors/local/process-info.js";
import { startHadoopTestenv, type HadoopTestenv } from "../support/hadoop-testenv.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

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
let s: ServerHarness;
let editor: TestUser;

interface TaskAnswer {
  state: string;
  yarn_application?: { id: string; url: string };
  attempts: { reason: string | null }[];
}

async function appState(id: string): Promise<string> {
  const answer = await fetch(`${hadoop.resourceManagerWeb ?? ""}/ws/v1/cluster/apps/${id}/state`);
  return ((await answer.json()) as { state: string }).state;
}

/** The task's YARN application once spark-submit logged it. */
async function waitForApplication(runId: string): Promise<{ id: string; url: string }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const task = await s.call<TaskAnswer>("GET", `/api/runs/${runId}/tasks/job`, { token: editor.token });
    if (task.body.yarn_application) return task.body.yarn_application;
    if (!["queued", "running", "scheduled"].includes(task.body.state)) throw new Error(`the task ended (${task.body.state}) before spark-submit logged an application: ${JSON.stringify(task.body.attempts)}`);
    if (Date.now() > deadline) throw new Error("spark-submit logged no application id within 120 s");
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function waitForAttemptEnd(runId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await s.platform.store.attempts.listByTask({ runId, taskId: "job" })).some((a) => a.endedAt === null)) {
    if (Date.now() > deadline) throw new Error(`the attempt of run ${runId} did not end within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  [hadoop, s] = await Promise.all([
    startHadoopTestenv({ yarn: true }),
    openServer({
      pipelines: {
        "job.py": JOB,
        "client.yaml": pipeline("yarn-client", ""),
        "cluster.yaml": pipeline("yarn-cluster", "      deploy_mode: cluster\n    timeout: 25s"),
        "no-rest.yaml": pipeline("yarn-no-rest", "", "lake-rpc-only"),
      },
    }),
  ]);
  editor = await s.user("eve", { "team-a": "editor" });
  const lake = { url: hadoop.webhdfsUrl, user: "analyst", default_fs: hadoop.defaultFs, resource_manager: hadoop.resourceManagerRpc, resource_manager_url: hadoop.resourceManagerWeb };
  expect((await s.call("PUT", "/api/connections/team-a/lake", { token: editor.token, body: { kind: "webhdfs", settings: lake } })).status).toBe(200);
  const rpcOnly = { url: hadoop.webhdfsUrl, resource_manager: hadoop.resourceManagerRpc };
  expect((await s.call("PUT", "/api/connections/team-a/lake-rpc-only", { token: editor.token, body: { kind: "webhdfs", settings: rpcOnly } })).status).toBe(200);
}, TIMEOUT);

afterAll(async () => {
  // Whatever a failed case left, no spark-submit of this file runs on.
  for (const run of await s.platform.store.runs.list({})) {
    for (const attempt of await s.platform.store.attempts.listByTask({ runId: run.id, taskId: "job" })) {
      for (const pid of await pidsWithToken(attempt.token)) process.kill(pid, "SIGKILL");
    }
  }
  await Promise.all([hadoop?.close(), s?.close()]);
});

describe("spark tasks with master yarn", () => {
  it("show the application, and cancel kills it on YARN as well as spark-submit (client mode)", { timeout: TIMEOUT }, async () => {
    // Both runs start at once, so the file pays for the two spark-submit JVMs side by side.
    const client = await s.call<{ id: string }>("POST", "/api/pipelines/yarn-client/runs", { token: editor.token, body: {} });
    const cluster = await s.call<{ id: string }>("POST", "/api/pipelines/yarn-cluster/runs", { token: editor.token, body: {} });
    expect([client.status, cluster.status]).toEqual([201, 201]);
    clusterRun = cluster.body.id;

    const app = await waitForApplication(client.body.id);
    expect(app.id).toMatch(/^application_\d+_\d+$/);
    expect(app.url).toBe(`${hadoop.resourceManagerWeb ?? ""}/cluster/app/${app.id}`);
    expect(await appState(app.id)).toBe("ACCEPTED");
    const attempt = (await s.platform.store.attempts.listByTask({ runId: client.body.id, taskId: "job" }))[0];

    expect((await s.call("POST", `/api/runs/${client.body.id}/cancel`, { token: editor.token })).status).toBe(200);
    const ended = await s.waitForRun(client.body.id, 60_000);
    expect(ended.state).toBe("cancelled");
    // The run is cancelled at once; its attempt ends once spark-submit is gone and YARN has answered.
    await waitForAttemptEnd(client.body.id);
    expect(await appState(app.id)).toBe("KILLED");
    const task = await s.call<TaskAnswer>("GET", `/api/runs/${client.body.id}/tasks/job`, { token: editor.token });
    expect(task.body.attempts[0]?.reason).toContain(`YARN application ${app.id} killed`);
    // The application id stays on the task after its end.
    expect(task.body.yarn_application?.id).toBe(app.id);
    expect(await pidsWithToken(attempt?.token ?? "")).toEqual([]);
  });

  it("kills a cluster-mode application when the task times out", { timeout: TIMEOUT }, async () => {
    const app = await waitForApplication(clusterRun);
    const ended = await s.waitForRun(clusterRun, 90_000);
    expect(ended.state).toBe("failed");
    await waitForAttemptEnd(clusterRun);
    expect(await appState(app.id)).toBe("KILLED");
    const task = await s.call<TaskAnswer>("GET", `/api/runs/${clusterRun}/tasks/job`, { token: editor.token });
    expect(task.body.attempts[0]?.reason).toMatch(/time/);
    expect(task.body.attempts[0]?.reason).toContain(`YARN application ${app.id} killed`);
  });

  it("refuses master yarn when the connection names no ResourceManager REST API, saying which fields it needs", { timeout: TIMEOUT }, async () => {
    const run = await s.call<{ id: string }>("POST", "/api/pipelines/yarn-no-rest/runs", { token: editor.token, body: {} });
    const ended = await s.waitForRun(run.body.id, 60_000);
    expect(ended.state).toBe("failed");
    const task = await s.call<TaskAnswer>("GET", `/api/runs/${run.body.id}/tasks/job`, { token: editor.token });
    expect(task.body.attempts.at(-1)?.reason).toMatch(/task job: master yarn needs a webhdfs connection with resource_manager .* and resource_manager_url/);
  });
});

let clusterRun = "";
