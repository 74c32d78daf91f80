/**
 * One pipeline, two clusters: a task on cluster `cpu` and a GPU task on cluster `gpu` (two
 * contexts and namespaces of the test plane) run to success, each pod in its own namespace, the
 * GPU pod asking for the cluster's GPU resource with its toleration and node selector.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Harness } from "../../support/platform-harness.js";
import { attemptPod, behaviourYaml, coreApi, openKubePipeline, readPod } from "./kube-harness.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("several clusters", () => {
  it("runs a pipeline with one task on cluster cpu and one on cluster gpu to success", { timeout: 180_000 }, async () => {
    const keep = behaviourYaml({ outcome: "complete", message: '{"rows": 1200}' }, { on_finish: "keep" });
    const p = await openKubePipeline(
      `  prepare: { cluster: cpu, command: [prepare], resources: { cpu: 500m, memory: 1Gi }, kubernetes: ${keep} }\n` +
        `  train: { cluster: gpu, command: [train, "--rows", "{{ tasks.prepare.outputs.rows }}"], resources: { cpu: 4, memory: 16Gi, gpu: 2 }, depends_on: [prepare], kubernetes: ${keep} }\n`,
    );
    harness = p.h;
    expect(p.errors).toEqual([]);
    const run = await p.h.platform.scheduler.trigger(p.pipelineId);
    await p.h.platform.start();
    expect((await p.h.waitForRun(run.id, 150_000)).state).toBe("success");
    expect(await p.h.taskStates(run.id)).toEqual({ prepare: "success", train: "success" });

    const cpuPod = await readPod(coreApi(p.env, "cpu"), p.env.contexts.cpu.namespace, attemptPod(p.pipelineId, run.id, "prepare"));
    expect(cpuPod?.spec?.nodeName).toBe(p.env.nodes.cpu);
    expect(cpuPod?.spec?.containers[0]?.resources).toEqual({ requests: { cpu: "500m", memory: "1073741824" }, limits: { memory: "1073741824" } });

    const gpuPod = await readPod(coreApi(p.env, "gpu"), p.env.contexts.gpu.namespace, attemptPod(p.pipelineId, run.id, "train"));
    expect(gpuPod?.spec?.nodeName).toBe(p.env.nodes.gpu);
    expect(gpuPod?.spec?.containers[0]?.command).toEqual(["train", "--rows", "1200"]);
    expect(gpuPod?.spec?.containers[0]?.resources?.limits?.["nvidia.com/gpu"]).toBe("2");
    expect(gpuPod?.spec?.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
    expect(gpuPod?.spec?.nodeSelector).toEqual({ "nvidia.com/gpu.present": "true" });
    const attempts = await p.h.platform.store.attempts.listByRun(run.id);
    expect(attempts.map((a) => a.externalId.split("/").slice(0, 2).join("/")).sort()).toEqual(["cpu/capstan-cpu", "gpu/capstan-gpu"]);
  });
});
