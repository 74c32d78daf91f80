/**
 * Bad input to the Kubernetes executor: each is a clear error naming the task and field, in the
 * pipeline file (with line and column) when it can be known at load time, else as the attempt's
 * reason. Unknown cluster, unreadable kubeconfig, missing context, namespace not allowed or not
 * existing, a quantity that does not parse, an invalid image, the API server's own rejection.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Harness } from "../../support/platform-harness.js";
import type { KubeTestenv } from "../../support/kube-testenv.js";
import { openKubePipeline, testClusters } from "./kube-harness.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function fileErrors(tasks: string, clusters?: (env: KubeTestenv) => Record<string, unknown>): Promise<string> {
  const p = await openKubePipeline(tasks, clusters ? { clusters } : {});
  harness = p.h;
  expect(p.errors).toHaveLength(1);
  return p.errors[0] ?? "";
}

/** Runs the one task `a` and returns its failure reason. */
async function attemptReason(tasks: string): Promise<string | null | undefined> {
  const p = await openKubePipeline(tasks);
  harness = p.h;
  expect(p.errors).toEqual([]);
  const run = await p.h.platform.scheduler.trigger(p.pipelineId);
  await p.h.platform.start();
  expect((await p.h.waitForRun(run.id, 150_000)).state).toBe("failed");
  return (await p.h.platform.store.tasks.get({ runId: run.id, taskId: "a" }))?.reason;
}

describe("bad input found when the pipeline file loads", () => {
  it("an unknown cluster", { timeout: 120_000 }, async () => {
    expect(await fileErrors(`  a: { command: [run], cluster: staging }\n`)).toMatch(/\.yaml:3:\d+: tasks\.a\.cluster: task a: unknown cluster "staging"; clusters in capstan\.yaml: cpu, gpu$/);
  });

  it("an unreadable kubeconfig", { timeout: 120_000 }, async () => {
    const message = await fileErrors(`  a: { command: [run] }\n`, (env) => ({ ...testClusters(env), cpu: { kubeconfig: "/nonexistent/kubeconfig", image: "python:3.12" } }));
    expect(message).toMatch(/\.yaml:3:\d+: tasks\.a\.cluster: task a: cluster cpu: cannot read kubeconfig \/nonexistent\/kubeconfig \(ENOENT\); set clusters\.cpu\.kubeconfig to a readable kubeconfig file$/);
  });

  it("a context missing from the kubeconfig", { timeout: 120_000 }, async () => {
    const message = await fileErrors(`  a: { command: [run], cluster: gpu }\n`, (env) => testClusters(env, { gpu: { context: "gpu-prod" } }));
    expect(message).toMatch(/tasks\.a\.cluster: task a: cluster gpu: context "gpu-prod" is not in kubeconfig .*kubeconfig; contexts there: cpu, gpu$/);
  });

  it("a namespace the cluster does not allow", { timeout: 120_000 }, async () => {
    const message = await fileErrors(`  a: { command: [run], namespace: finance }\n`, (env) => testClusters(env, { cpu: { namespaces: ["team-a"] } }));
    expect(message).toMatch(/\.yaml:3:\d+: tasks\.a\.namespace: task a: namespace "finance" is not allowed on cluster cpu; allowed: capstan-cpu, team-a/);
  });

  it("a resource quantity that does not parse", { timeout: 120_000 }, async () => {
    const message = await fileErrors(`  a:\n    command: [run]\n    kubernetes:\n      limits: { memory: 4 GB }\n`);
    expect(message).toMatch(/\.yaml:6:\d+: tasks\.a\.kubernetes\.limits\.memory: task a: kubernetes\.limits\.memory: "4 GB" is not a memory quantity such as "512Mi"/);
  });

  it("an image name that is not valid", { timeout: 120_000 }, async () => {
    const message = await fileErrors(`  a: { command: [run], image: "team/Trainer:latest" }\n`);
    expect(message).toMatch(/\.yaml:3:\d+: tasks\.a\.image: task a: "team\/Trainer:latest" is not a valid image reference: repository names are lower-case$/);
  });

  it("an unknown field of kubernetes:, with the accepted ones", { timeout: 120_000 }, async () => {
    const message = await fileErrors(`  a: { command: [run], kubernetes: { node_selectr: { pool: gpu } } }\n`);
    expect(message).toMatch(/tasks\.a\.kubernetes\.node_selectr: task a: kubernetes\.node_selectr: unknown field "node_selectr"; accepted here: labels, annotations, env_from/);
  });
});

describe("bad input found when the attempt starts", () => {
  it("a namespace that does not exist on the cluster", { timeout: 180_000 }, async () => {
    expect(await attemptReason(`  a: { command: [run], namespace: capstan-missing }\n`)).toBe(
      "could not start: namespace capstan-missing does not exist on cluster cpu; create it or choose another with namespace:",
    );
  });

  it("the API server's own rejection of the pod, with its message", { timeout: 180_000 }, async () => {
    expect(await attemptReason(`  a: { command: [run], kubernetes: { security_context: { runAsUser: -1 } } }\n`)).toMatch(
      /^could not start: the API server of cluster cpu rejected pod kube-\d+-\d+-a-[0-9a-f]{10}: Pod "kube-\d+-\d+-a-[0-9a-f]{10}" is invalid: spec\.containers\[0\]\.securityContext\.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive$/,
    );
  });
});
