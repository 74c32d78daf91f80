/**
 * Values from Capstan's secret store reach a pod without being written into its spec: the
 * attempt's own immutable Secret, created before the pod and owned by it, read with secretKeyRef.
 */
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterEach, expect, it } from "vitest";
import type { Platform } from "../../../src/wiring/index.js";
import type { Harness } from "../../support/platform-harness.js";
import { attemptPod, behaviourYaml, coreApi, eventually, openKubePipeline, readPod, reopenPlatform, testClusters, waitForPod, waitForPodGone } from "./kube-harness.js";

let harness: Harness | undefined;
let second: Platform | undefined;
afterEach(async () => {
  await second?.close();
  second = undefined;
  await harness?.close();
  harness = undefined;
});

it("passes task secrets through an attempt Secret owned by the pod, never in the pod's spec", { timeout: 180_000 }, async () => {
  const p = await openKubePipeline(
    `  load:\n    command: [run]\n    env: { DB_USER: etl }\n    secrets: { DB_PASSWORD: warehouse/password }\n    kubernetes: ${behaviourYaml({ outcome: "complete" }, { on_finish: "keep" })}\n`,
  );
  harness = p.h;
  expect(p.errors).toEqual([]);
  await p.h.platform.secrets.set("default", "warehouse", { password: "s3cret-value-9" });
  const run = await p.h.platform.scheduler.trigger(p.pipelineId);
  await p.h.platform.start();
  await p.h.waitForRun(run.id, 150_000);
  expect(await p.h.taskStates(run.id)).toEqual({ load: "success" });

  const core = coreApi(p.env);
  const namespace = p.env.contexts.cpu.namespace;
  const name = attemptPod(p.pipelineId, run.id, "load");
  const pod = await readPod(core, namespace, name);
  expect(JSON.stringify(pod)).not.toContain("s3cret-value-9");
  const env = pod?.spec?.containers[0]?.env ?? [];
  expect(env.find((e) => e.name === "DB_PASSWORD")?.valueFrom).toEqual({ secretKeyRef: { name, key: "DB_PASSWORD" } });
  expect(env.find((e) => e.name === "DB_USER")?.value).toBe("etl");

  const secret = await core.readNamespacedSecret({ namespace, name });
  expect(Buffer.from(secret.data?.DB_PASSWORD ?? "", "base64").toString("utf8")).toBe("s3cret-value-9");
  expect(secret.immutable).toBe(true);
  expect(secret.metadata?.ownerReferences).toEqual([expect.objectContaining({ apiVersion: "v1", kind: "Pod", name, uid: pod?.metadata?.uid })]);
});

it("deletes the attempt Secret when the API server rejects the pod", { timeout: 180_000 }, async () => {
  const p = await openKubePipeline(`  a: { command: [run], secrets: { TOKEN: api/token }, kubernetes: { security_context: { runAsUser: -1 } } }\n`);
  harness = p.h;
  expect(p.errors).toEqual([]);
  await p.h.platform.secrets.set("default", "api", { token: "t0ken" });
  const run = await p.h.platform.scheduler.trigger(p.pipelineId);
  await p.h.platform.start();
  expect((await p.h.waitForRun(run.id, 150_000)).state).toBe("failed");
  expect((await p.h.platform.store.tasks.get({ runId: run.id, taskId: "a" }))?.reason).toMatch(/^could not start: the API server of cluster cpu rejected pod /);
  const core = coreApi(p.env);
  const name = attemptPod(p.pipelineId, run.id, "a");
  const status = await core.readNamespacedSecret({ namespace: p.env.contexts.cpu.namespace, name }).then(
    () => 200,
    (error: unknown) => (error as { code?: number }).code,
  );
  expect(status).toBe(404);
});

it("replaces an attempt Secret an earlier start of the same attempt left, and refuses one that is not its own", { timeout: 180_000 }, async () => {
  const p = await openKubePipeline(
    `  mine: { command: [run], secrets: { TOKEN: api/token }, kubernetes: ${behaviourYaml({ outcome: "complete" }, { on_finish: "keep" })} }\n` +
      `  theirs: { command: [run], secrets: { TOKEN: api/token } }\n`,
  );
  harness = p.h;
  expect(p.errors).toEqual([]);
  await p.h.platform.secrets.set("default", "api", { token: "fresh-token" });
  const run = await p.h.platform.scheduler.trigger(p.pipelineId);
  const core = coreApi(p.env);
  const namespace = p.env.contexts.cpu.namespace;
  const stale = (task: string, annotations: Record<string, string>) =>
    core.createNamespacedSecret({ namespace, body: { metadata: { name: attemptPod(p.pipelineId, run.id, task), annotations }, immutable: true, data: { TOKEN: Buffer.from("stale").toString("base64") } } });
  await stale("mine", { "capstan.dev/run-id": run.id, "capstan.dev/task-id": "mine", "capstan.dev/try": "1" });
  await stale("theirs", { "capstan.dev/run-id": "another-run", "capstan.dev/task-id": "theirs", "capstan.dev/try": "1" });
  await p.h.platform.start();
  await p.h.waitForRun(run.id, 150_000);
  expect(await p.h.taskStates(run.id)).toEqual({ mine: "success", theirs: "failed" });
  const replaced = await core.readNamespacedSecret({ namespace, name: attemptPod(p.pipelineId, run.id, "mine") });
  expect(Buffer.from(replaced.data?.TOKEN ?? "", "base64").toString("utf8")).toBe("fresh-token");
  expect((await p.h.platform.store.tasks.get({ runId: run.id, taskId: "theirs" }))?.reason).toMatch(/^could not start: Secret .+ already exists and belongs to something else; delete it or rename the task$/);
});

it("after a restart, owns an attempt Secret left without its owner by its running pod, and deletes one whose pod is gone", { timeout: 180_000 }, async () => {
  // A scheduler that stops between a Secret's create and its pod's (for a Spark driver, all of
  // spark-submit's run) leaves the Secret without an owner: the cluster would keep its values.
  const running = behaviourYaml({ outcome: "running" });
  const p = await openKubePipeline(`  stays: { command: [run], secrets: { TOKEN: api/token }, kubernetes: ${running} }\n  goes: { command: [run], secrets: { TOKEN: api/token }, kubernetes: ${running} }\n`);
  harness = p.h;
  expect(p.errors).toEqual([]);
  await p.h.platform.secrets.set("default", "api", { token: "t0ken" });
  const run = await p.h.platform.scheduler.trigger(p.pipelineId);
  await p.h.platform.start();
  const core = coreApi(p.env);
  const namespace = p.env.contexts.cpu.namespace;
  const names = { stays: attemptPod(p.pipelineId, run.id, "stays"), goes: attemptPod(p.pipelineId, run.id, "goes") };
  for (const task of ["stays", "goes"] as const) {
    await waitForPod(core, namespace, names[task], (pod) => pod.status?.phase === "Running");
    await eventually(`${task}'s Secret is owned by its pod`, async () => ((await core.readNamespacedSecret({ namespace, name: names[task] })).metadata?.ownerReferences?.length ? true : undefined), 60_000);
  }
  await p.h.platform.close();
  harness = undefined;
  for (const name of Object.values(names)) {
    await core.patchNamespacedSecret({ namespace, name, body: { metadata: { ownerReferences: null } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  }
  await core.deleteNamespacedPod({ namespace, name: names.goes, gracePeriodSeconds: 0 });
  await waitForPodGone(core, namespace, names.goes);

  second = await reopenPlatform(p.h, (config) => {
    config.clusters = testClusters(p.env);
    config.defaultExecutor = "kubernetes";
  });
  const stays = await readPod(core, namespace, names.stays);
  await eventually("the running pod owns its Secret again", async () => {
    const owners = (await core.readNamespacedSecret({ namespace, name: names.stays })).metadata?.ownerReferences ?? [];
    return owners.some((o) => o.uid === stays?.metadata?.uid) ? true : undefined;
  }, 60_000);
  const gone = await core.readNamespacedSecret({ namespace, name: names.goes }).then(
    () => 200,
    (error: unknown) => (error as { code?: number }).code,
  );
  expect(gone).toBe(404);
  await second.scheduler.cancel(run.id);
});
