/**
 * What happens to pods on every end path: the on-finish policies (delete, delete_succeeded, keep)
 * after success and failure, pods stopped by a timeout or a failed start are deleted whatever the
 * policy, a retried attempt's pod follows the policy before the next try, a scheduler shutdown
 * leaves pods running for the next start; a pod deleted from outside makes the attempt lost and
 * the retry policy runs it again; a create that finds its pod already there adopts it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ANNOTATIONS, LABELS, MANAGED_BY } from "../../../src/executors/kubernetes/kube/index.js";
import type { Platform } from "../../../src/wiring/index.js";
import { podBehaviour } from "../../support/kube-testenv.js";
import type { Harness } from "../../support/platform-harness.js";
import {
  attemptPod,
  behaviourYaml,
  coreApi,
  eventually,
  openKubePipeline,
  podsOfRun,
  readPod,
  reopenPlatform,
  steerPod,
  testClusters,
  TEST_IMAGE,
  waitForPod,
  waitForPodGone,
} from "./kube-harness.js";

const TIMEOUT_MS = 180_000;

let harness: Harness | undefined;
let second: Platform | undefined;
afterEach(async () => {
  await second?.close();
  second = undefined;
  await harness?.close();
  harness = undefined;
});

async function start(tasks: string) {
  const p = await openKubePipeline(tasks);
  harness = p.h;
  expect(p.errors).toEqual([]);
  const run = await p.h.platform.scheduler.trigger(p.pipelineId);
  await p.h.platform.start();
  const core = coreApi(p.env);
  const namespace = p.env.contexts.cpu.namespace;
  return { ...p, run, core, namespace, pod: (task: string, tryNumber = 1) => attemptPod(p.pipelineId, run.id, task, tryNumber) };
}

describe("on-finish policies", () => {
  it.each([
    ["delete", { ok: false, bad: false }],
    ["delete_succeeded", { ok: false, bad: true }],
    ["keep", { ok: true, bad: true }],
  ] as const)("on_finish: %s keeps pods as the policy says (kept: %j)", { timeout: TIMEOUT_MS }, async (policy, kept) => {
    const { h, run, core, namespace, pod } = await start(
      `  ok: { command: [run], kubernetes: ${behaviourYaml({ outcome: "complete" }, { on_finish: policy })} }\n` +
        `  bad: { command: [run], kubernetes: ${behaviourYaml({ outcome: "fail", exitCode: 2 }, { on_finish: policy })} }\n`,
    );
    await h.waitForRun(run.id, 150_000);
    expect(await h.taskStates(run.id)).toEqual({ ok: "success", bad: "failed" });
    for (const [task, keep] of Object.entries(kept)) {
      if (keep) expect((await readPod(core, namespace, pod(task)))?.status?.phase).toBe(task === "ok" ? "Succeeded" : "Failed");
      else await waitForPodGone(core, namespace, pod(task));
    }
  });

  it("deletes a pod stopped by a timeout even with on_finish: keep", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, core, namespace, pod } = await start(`  a: { command: [run], timeout: 2s, kubernetes: ${behaviourYaml({ outcome: "running" }, { on_finish: "keep" })} }\n`);
    await h.waitForRun(run.id, 150_000);
    await waitForPodGone(core, namespace, pod("a"));
  });

  it("deletes a pod that never started even with on_finish: keep", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, core, namespace, pod } = await start(`  a: { command: [run], kubernetes: ${behaviourYaml({ outcome: "pending" }, { on_finish: "keep", startup_timeout: "1s" })} }\n`);
    await h.waitForRun(run.id, 150_000);
    await waitForPodGone(core, namespace, pod("a"));
  });

  it("applies the policy to a failed try before the retry (delete_succeeded keeps the failed pod)", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, core, namespace, pod } = await start(`  a: { command: [run], retries: 1, retry_delay: 0s, kubernetes: ${behaviourYaml({ outcome: "running" }, { on_finish: "delete_succeeded" })} }\n`);
    await waitForPod(core, namespace, pod("a"), (p) => p.status?.phase === "Running");
    await steerPod(core, namespace, pod("a"), { outcome: "fail", exitCode: 1 });
    await waitForPod(core, namespace, pod("a", 2), (p) => p.status?.phase === "Running");
    await steerPod(core, namespace, pod("a", 2), { outcome: "complete" });
    expect((await h.waitForRun(run.id, 150_000)).state).toBe("success");
    expect((await readPod(core, namespace, pod("a")))?.status?.phase).toBe("Failed");
    await waitForPodGone(core, namespace, pod("a", 2));
  });

  it("leaves pods running when the scheduler shuts down, and applies the policy after adopting them", { timeout: TIMEOUT_MS }, async () => {
    const { h, env, run, core, namespace, pod } = await start(`  a: { command: [run], kubernetes: ${behaviourYaml({ outcome: "running" })} }\n`);
    await waitForPod(core, namespace, pod("a"), (p) => p.status?.phase === "Running");
    await h.waitForTask(run.id, "a", ["running"], 60_000);
    await h.platform.close();
    harness = undefined;
    const stillThere = await readPod(core, namespace, pod("a"));
    expect(stillThere?.status?.phase).toBe("Running");
    expect(stillThere?.metadata?.deletionTimestamp).toBeUndefined();
    // The pod ends while no scheduler runs; the next start finds it ended and deletes it.
    await steerPod(core, namespace, pod("a"), { outcome: "complete" });
    await waitForPod(core, namespace, pod("a"), (p) => p.status?.phase === "Succeeded");
    second = await reopenPlatform(h, (config) => {
      config.clusters = testClusters(env);
      config.defaultExecutor = "kubernetes";
    });
    const platform = second;
    const done = await eventually("run finished", async () => {
      const r = await platform.store.runs.get(run.id);
      return r && r.state !== "running" ? r : undefined;
    }, 120_000);
    expect(done.state).toBe("success");
    await waitForPodGone(core, namespace, pod("a"));
    expect((await platform.store.attempts.listByTask({ runId: run.id, taskId: "a" })).map((a) => a.state)).toEqual(["success"]);
  });
});

describe("pods deleted from outside", () => {
  it("makes the attempt lost and retries it as a new try", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, core, namespace, pod } = await start(`  a: { command: [run], retries: 2, retry_delay: 0s, kubernetes: ${behaviourYaml({ outcome: "running" })} }\n`);
    await waitForPod(core, namespace, pod("a"), (p) => p.status?.phase === "Running");
    await core.deleteNamespacedPod({ namespace, name: pod("a") });
    await waitForPod(core, namespace, pod("a", 2), (p) => p.status?.phase === "Running");
    await steerPod(core, namespace, pod("a", 2), { outcome: "complete" });
    expect((await h.waitForRun(run.id, 150_000)).state).toBe("success");
    const attempts = await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "a" });
    expect(attempts.map((a) => a.state)).toEqual(["lost", "success"]);
    expect(attempts[0]?.reason).toMatch(/^lost: pod .+ was deleted outside Capstan/);
  });
});

describe("idempotent create", () => {
  it("adopts a pod that already exists for the same attempt instead of creating a second one", { timeout: TIMEOUT_MS }, async () => {
    const p = await openKubePipeline(`  a: { command: [run], kubernetes: ${behaviourYaml({ outcome: "complete" })} }\n`);
    harness = p.h;
    const run = await p.h.platform.scheduler.trigger(p.pipelineId);
    const core = coreApi(p.env);
    const namespace = p.env.contexts.cpu.namespace;
    const name = attemptPod(p.pipelineId, run.id, "a");
    // As if another scheduler had created it a moment ago: same name, same attempt, still running.
    const running = podBehaviour({ outcome: "running" });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name,
          labels: { ...running.labels, [LABELS.managedBy]: MANAGED_BY, [LABELS.run]: run.id, [LABELS.task]: "a", [LABELS.try]: "1" },
          annotations: { [ANNOTATIONS.runId]: run.id, [ANNOTATIONS.taskId]: "a", [ANNOTATIONS.try]: "1", [ANNOTATIONS.onFinish]: "keep" },
        },
        spec: { restartPolicy: "Never", containers: [{ name: "task", image: TEST_IMAGE, command: ["run"] }] },
      },
    });
    await p.h.platform.start();
    await p.h.waitForTask(run.id, "a", ["running"], 60_000);
    await steerPod(core, namespace, name, { outcome: "complete" });
    expect((await p.h.waitForRun(run.id, 150_000)).state).toBe("success");
    expect((await podsOfRun(core, namespace, run.id)).map((pod) => pod.metadata?.name)).toEqual([name]);
  });

  it("refuses to take over a pod of that name that belongs to another attempt", { timeout: TIMEOUT_MS }, async () => {
    const p = await openKubePipeline(`  a: { command: [run] }\n`);
    harness = p.h;
    const run = await p.h.platform.scheduler.trigger(p.pipelineId);
    const core = coreApi(p.env);
    const namespace = p.env.contexts.cpu.namespace;
    const name = attemptPod(p.pipelineId, run.id, "a");
    await core.createNamespacedPod({ namespace, body: { metadata: { name, labels: podBehaviour({ outcome: "running" }).labels }, spec: { restartPolicy: "Never", containers: [{ name: "main", image: TEST_IMAGE }] } } });
    await p.h.platform.start();
    await p.h.waitForRun(run.id, 150_000);
    expect((await p.h.platform.store.tasks.get({ runId: run.id, taskId: "a" }))?.reason).toMatch(/already exists on cluster cpu and belongs to another attempt/);
    expect((await readPod(core, namespace, name))?.metadata?.deletionTimestamp).toBeUndefined();
    await core.deleteNamespacedPod({ namespace, name });
  });
});
