/**
 * `spark:` tasks with master k8s on the Kubernetes executor: the venv's real spark-submit creates
 * the driver pod on the test plane (cluster mode, waitAppCompletion=false) with the attempt's name,
 * labels and annotations; kwok plays the kubelet, so the driver's container never runs here: kwok
 * moves it to Running and then Succeeded or Failed, and the attempt ends with that phase and the
 * driver's log. The test plays the part of the driver when it creates an "executor" pod.
 */
import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setPodLog } from "../support/kube-testenv.js";
import type { Platform } from "../../src/wiring/index.js";
import type { Harness } from "../support/platform-harness.js";
import {
  attemptPod,
  behaviourYaml,
  coreApi,
  eventually,
  openKubePipeline,
  readPod,
  reopenPlatform,
  steerPod,
  testClusters,
  TEST_IMAGE,
  waitForPodGone,
  type KubePipeline,
} from "./executor/kube-harness.js";

const TIMEOUT_MS = 180_000;
const sparkTask = (behaviour: Parameters<typeof behaviourYaml>[0], more = "") =>
  `{ spark: { application: "local:///opt/jobs/job.py", master: k8s, conf: { spark.executor.instances: "1" } }, args: ["--day", "1"], image: ${TEST_IMAGE}, kubernetes: ${behaviourYaml(behaviour)}${more} }`;
const SECRET_VALUE = "s3cret-spark-value-7";

let p: KubePipeline;
let h: Harness;
beforeAll(async () => {
  p = await openKubePipeline(
    [
      `  ok: ${sparkTask({ outcome: "complete", runDurationMs: 300 })}`,
      `  bad: ${sparkTask({ outcome: "fail", exitCode: 1, runDurationMs: 300 })}`,
      `  slow: ${sparkTask({ outcome: "running" }, ", env: { MODE: fast-mode-42 }, secrets: { DB_PASSWORD: warehouse/password }")}`,
      `  elsewhere: { spark: { application: "local:///opt/jobs/job.py", master: k8s, conf: { spark.kubernetes.namespace: kube-system } }, image: ${TEST_IMAGE} }`,
    ].join("\n") + "\n",
    // Three spark-submits start at once: on a loaded machine their JVMs need more than a minute.
    { clusters: (env) => testClusters(env, { cpu: { startup_timeout: "150s" } }) },
  );
  h = p.h;
}, TIMEOUT_MS);
afterAll(async () => {
  await h.close();
});

const stateOf = async (runId: string, taskId: string, platform: Platform = h.platform) => (await platform.store.tasks.get({ runId, taskId }))?.state;
const logOf = async (runId: string, taskId: string, platform: Platform = h.platform) => readFile((await platform.store.attempts.get({ runId, taskId, tryNumber: 1 }))?.logPath ?? "", "utf8");

/** A pod once Running; spark-submit's JVMs start slowly on a loaded machine, so this waits longer than waitForPod. */
const runningPod = (core: ReturnType<typeof coreApi>, namespace: string, name: string) =>
  eventually(`pod ${namespace}/${name} running`, async () => {
    const pod = await readPod(core, namespace, name);
    return pod?.status?.phase === "Running" ? pod : undefined;
  }, 150_000);

/** Creates a pod as a Spark driver creates its executors: the attempt label, owned by the driver. */
async function createExecutorPod(core: ReturnType<typeof coreApi>, namespace: string, driver: { name: string; uid: string }): Promise<string> {
  const name = `${driver.name}-exec-1`;
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name,
        labels: { "spark-role": "executor", "capstan.dev/attempt": driver.name },
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: driver.name, uid: driver.uid }],
      },
      spec: { containers: [{ name: "spark-kubernetes-executor", image: TEST_IMAGE }] },
    },
  });
  return name;
}

/** The command lines of this machine's processes that hold `text` (spark-submit's, while it runs). */
async function commandLinesWith(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name))) {
    const line = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (line.includes(text)) found.push(line.replaceAll("\0", " "));
  }
  return found;
}

describe("spark tasks with master k8s", () => {
  it("submit the driver with the task's env and secrets (secrets only as Secret keys, never on a command line), follow it to its end, store its log and end with its phase; cancel deletes the driver and its executors", { timeout: TIMEOUT_MS }, async () => {
    expect(p.errors).toEqual([]);
    const core = coreApi(p.env);
    const namespace = p.env.contexts.cpu.namespace;
    const run = await h.platform.scheduler.trigger(p.pipelineId);
    const pods = { ok: attemptPod(p.pipelineId, run.id, "ok"), bad: attemptPod(p.pipelineId, run.id, "bad"), slow: attemptPod(p.pipelineId, run.id, "slow") };
    await setPodLog(p.env, { namespace, pod: pods.ok, text: "rows: 1000\n" });
    await setPodLog(p.env, { namespace, pod: pods.bad, text: "Traceback (most recent call last):\n  File \"/opt/jobs/job.py\", line 3\nValueError: no input for day 1\n" });
    await h.platform.secrets.set("default", "warehouse", { password: SECRET_VALUE });
    await h.platform.start();

    // spark-submit's command lines, read from the process list while they run (the scan sees slow's,
    // by its driver's name): neither the task's plain env value nor its secret is there; both are
    // readable by every process on the machine.
    const seen = { submit: 0, plain: [] as string[], secret: [] as string[] };
    let driverUp = false;
    const scanning = (async () => {
      while (!driverUp) {
        if ((await commandLinesWith(`spark.kubernetes.driver.pod.name=${pods.slow}`)).length > 0) seen.submit += 1;
        seen.plain.push(...(await commandLinesWith("fast-mode-42")));
        seen.secret.push(...(await commandLinesWith(SECRET_VALUE)));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    // The driver spark-submit made: the attempt's name, Capstan's labels and annotations, Spark's role, the task's image.
    const driver = await runningPod(core, namespace, pods.slow).finally(() => (driverUp = true));
    await scanning;
    expect(seen.submit).toBeGreaterThan(0);
    expect(seen.plain).toEqual([]);
    expect(seen.secret).toEqual([]);
    expect(driver.metadata?.labels).toMatchObject({ "spark-role": "driver", "capstan.dev/attempt": pods.slow, "capstan.dev/run": run.id, "capstan.dev/managed-by": "capstan" });
    expect(driver.metadata?.annotations).toMatchObject({ "capstan.dev/run-id": run.id, "capstan.dev/task-id": "slow", "capstan.dev/try": "1" });
    expect(driver.spec?.containers[0]).toMatchObject({ name: "task", image: TEST_IMAGE });
    expect(driver.spec?.containers[0]?.args).toContain("local:///opt/jobs/job.py");
    // The task's env and secrets: the plain value in the driver's env, the secret only as a key of
    // the attempt's Secret (owned by the driver), in the stored spec and in what the executors get.
    const driverEnv = driver.spec?.containers[0]?.env ?? [];
    expect(driverEnv.find((e) => e.name === "MODE")?.value).toBe("fast-mode-42");
    expect(driverEnv.find((e) => e.name === "DB_PASSWORD")?.valueFrom).toEqual({ secretKeyRef: { name: pods.slow, key: "DB_PASSWORD" } });
    expect(JSON.stringify(driver)).not.toContain(SECRET_VALUE);
    // The driver takes the Secret over once spark-submit has exited (the driver may run before that);
    // by then spark-submit has also stored the executors' conf beside the driver.
    const secret = await eventually("the driver owns the attempt's Secret", async () => {
      const read = await core.readNamespacedSecret({ namespace, name: pods.slow });
      return (read.metadata?.ownerReferences ?? []).length > 0 ? read : undefined;
    }, 60_000);
    expect(Buffer.from(secret.data?.DB_PASSWORD ?? "", "base64").toString("utf8")).toBe(SECRET_VALUE);
    expect(secret.metadata?.ownerReferences).toEqual([expect.objectContaining({ apiVersion: "v1", kind: "Pod", name: pods.slow, uid: driver.metadata?.uid })]);
    const configMaps = (await core.listNamespacedConfigMap({ namespace })).items.filter((c) => (c.metadata?.ownerReferences ?? []).some((o) => o.name === pods.slow));
    const executorConf = configMaps.map((c) => Object.values(c.data ?? {}).join("\n")).join("\n").replaceAll("\\:", ":");
    expect(executorConf).toContain(`spark.kubernetes.executor.secretKeyRef.DB_PASSWORD=${pods.slow}:DB_PASSWORD`);
    expect(executorConf).toContain("spark.executorEnv.MODE=fast-mode-42");
    expect(executorConf).not.toContain(SECRET_VALUE);

    // An executor as the driver would create it: the attempt label, owned by the driver.
    const executor = await createExecutorPod(core, namespace, { name: pods.slow, uid: driver.metadata?.uid ?? "" });
    await eventually("ok and bad ended", async () => {
      const states = [await stateOf(run.id, "ok"), await stateOf(run.id, "bad")];
      return states.every((state) => state === "success" || state === "failed");
    }, 150_000);
    await h.platform.scheduler.cancel(run.id);
    await waitForPodGone(core, namespace, pods.slow);
    await waitForPodGone(core, namespace, executor);
    await h.waitForRun(run.id, 60_000);

    expect(await stateOf(run.id, "ok")).toBe("success");
    expect(await stateOf(run.id, "bad")).toBe("failed");
    const okLog = await logOf(run.id, "ok");
    expect(okLog).toContain("rows: 1000");
    const badReason = (await h.platform.store.tasks.get({ runId: run.id, taskId: "bad" }))?.reason ?? "";
    expect(badReason).toMatch(/exit code 1.*: ValueError: no input for day 1$/);
    expect(await logOf(run.id, "bad")).toContain("ValueError: no input for day 1");
    expect(await readPod(core, namespace, pods.ok)).toBeUndefined();
    expect(await logOf(run.id, "slow")).not.toContain(SECRET_VALUE);
    // A task cannot send its driver past its cluster's namespace or credentials.
    expect(await stateOf(run.id, "elsewhere")).toBe("failed");
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "elsewhere" }))?.reason).toMatch(/spark\.conf\.spark\.kubernetes\.namespace cannot be set with master k8s/);
  });
});

describe("spark drivers after a scheduler restart", () => {
  let restarted: Platform | undefined;
  afterAll(async () => {
    await restarted?.close();
  });

  it("a running driver is adopted by the next scheduler: it ends with the driver's phase, and a cancel still deletes the driver and its executors", { timeout: TIMEOUT_MS }, async () => {
    const q = await openKubePipeline([`  ends: ${sparkTask({ outcome: "running" })}`, `  cancelled: ${sparkTask({ outcome: "running" })}`].join("\n") + "\n");
    expect(q.errors).toEqual([]);
    const core = coreApi(q.env);
    const namespace = q.env.contexts.cpu.namespace;
    const run = await q.h.platform.scheduler.trigger(q.pipelineId);
    const pods = { ends: attemptPod(q.pipelineId, run.id, "ends"), cancelled: attemptPod(q.pipelineId, run.id, "cancelled") };
    await setPodLog(q.env, { namespace, pod: pods.ends, text: "Traceback (most recent call last):\n  File \"/opt/jobs/job.py\", line 9\nKeyError: 'day'\n" });
    await q.h.platform.start();
    const drivers = await Promise.all([runningPod(core, namespace, pods.ends), runningPod(core, namespace, pods.cancelled)]);
    await q.h.waitForTask(run.id, "ends", ["running"], 60_000);
    await q.h.waitForTask(run.id, "cancelled", ["running"], 60_000);
    const executor = await createExecutorPod(core, namespace, { name: pods.cancelled, uid: drivers[1].metadata?.uid ?? "" });
    const before = await logOf(run.id, "ends", q.h.platform);
    expect(before).not.toBe("");

    // The scheduler stops; the drivers (and the executor) go on running on the cluster.
    await q.h.close();
    expect((await readPod(core, namespace, pods.ends))?.metadata?.deletionTimestamp).toBeUndefined();
    restarted = await reopenPlatform(q.h, (config) => {
      config.clusters = testClusters(q.env);
      config.defaultExecutor = "kubernetes";
    });
    const platform = restarted;

    // Adopted: the driver's failure ends the attempt with its phase and its exception.
    await steerPod(core, namespace, pods.ends, { outcome: "fail", exitCode: 1 });
    await eventually("the adopted driver's attempt ended", async () => (await stateOf(run.id, "ends", platform)) === "failed", 120_000);
    const reason = (await platform.store.tasks.get({ runId: run.id, taskId: "ends" }))?.reason ?? "";
    expect(reason).toMatch(/exit code 1.*: KeyError: 'day'$/);
    const log = await logOf(run.id, "ends", platform);
    expect(log).toContain("KeyError: 'day'");
    // spark-submit's own output, written before the restart, is still at the head of the log.
    expect(log.startsWith(before)).toBe(true);

    // A cancel after adoption deletes the other driver and the executor it made.
    expect(await stateOf(run.id, "cancelled", platform)).toBe("running");
    await platform.scheduler.cancel(run.id);
    await waitForPodGone(core, namespace, executor);
    await waitForPodGone(core, namespace, pods.cancelled);
    await eventually("the run ended", async () => {
      const r = await platform.store.runs.get(run.id);
      return r && r.state !== "running" && r.state !== "queued" ? r : undefined;
    }, 60_000);
    expect(await stateOf(run.id, "cancelled", platform)).toBe("cancelled");
    const killed = await eventually("the cancelled attempt ended", async () => {
      const attempt = await platform.store.attempts.get({ runId: run.id, taskId: "cancelled", tryNumber: 1 });
      return attempt && attempt.state !== "running" && attempt.state !== "launching" ? attempt : undefined;
    }, 60_000);
    expect(killed.reason).toMatch(/cancelled/);
  });
});
