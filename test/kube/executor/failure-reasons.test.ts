/**
 * Every way a pod can fail shows as the attempt's reason: OOMKilled, Evicted, an image that cannot
 * be pulled (at once, naming the image), Unschedulable with the scheduler's message after the
 * scheduling timeout, a startup timeout, DeadlineExceeded, the exit code with the termination
 * message, and a lost node (lost → the retry policy).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Harness } from "../../support/platform-harness.js";
import { attemptPod, behaviourYaml, coreApi, eventually, openKubePipeline, readPod, waitForPod, waitForPodGone } from "./kube-harness.js";

const TIMEOUT_MS = 180_000;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Runs a one-task pipeline `a` to its end and returns the task instance and its attempts. */
async function runOne(fields: string, options: Parameters<typeof openKubePipeline>[1] = {}) {
  const p = await openKubePipeline(`  a: { command: [train], ${fields} }\n`, options);
  harness = p.h;
  expect(p.errors).toEqual([]);
  const run = await p.h.platform.scheduler.trigger(p.pipelineId);
  await p.h.platform.start();
  return { ...p, run };
}

async function finished(h: Harness, runId: string) {
  await h.waitForRun(runId, 150_000);
  const ti = await h.platform.store.tasks.get({ runId, taskId: "a" });
  const attempts = await h.platform.store.attempts.listByTask({ runId, taskId: "a" });
  return { ti, attempts };
}

describe("failure reasons of pods", () => {
  it("shows OOMKilled with the memory limit", { timeout: TIMEOUT_MS }, async () => {
    const { h, run } = await runOne(`resources: { memory: 64Mi }, kubernetes: ${behaviourYaml({ outcome: "oom-killed" })}`);
    const { ti, attempts } = await finished(h, run.id);
    expect(ti?.state).toBe("failed");
    expect(ti?.reason).toMatch(/^OOMKilled: the container went over its memory limit \(67108864 bytes\)/);
    expect(attempts[0]?.exitCode).toBe(137);
  });

  it("shows Evicted with the kubelet's message", { timeout: TIMEOUT_MS }, async () => {
    const { h, run } = await runOne(`kubernetes: ${behaviourYaml({ outcome: "evicted", message: "The node was low on resource: ephemeral-storage." })}`);
    const { ti } = await finished(h, run.id);
    expect(ti?.reason).toBe("Evicted: The node was low on resource: ephemeral-storage.");
  });

  it("fails at once when the image cannot be pulled, naming the image, and deletes the pod", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, env, pipelineId } = await runOne(`image: registry.example/team/missing:0.1, kubernetes: ${behaviourYaml({ outcome: "image-pull-error" })}`);
    const { ti } = await finished(h, run.id);
    expect(ti?.reason).toMatch(/^(ErrImagePull|ImagePullBackOff): image registry\.example\/team\/missing:0\.1 cannot be pulled/);
    await waitForPodGone(coreApi(env), env.contexts.cpu.namespace, attemptPod(pipelineId, run.id, "a"));
  });

  it("shows Unschedulable with the scheduler's message after the scheduling timeout", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, env, pipelineId } = await runOne(`cluster: gpu, resources: { gpu: 16 }, kubernetes: { scheduling_timeout: 2s }`);
    const { ti } = await finished(h, run.id);
    expect(ti?.reason).toMatch(/^Unschedulable: 0\/2 nodes are available: .*Insufficient nvidia\.com\/gpu.* \(not scheduled within 2s, scheduling_timeout\)$/);
    await waitForPodGone(coreApi(env, "gpu"), env.contexts.gpu.namespace, attemptPod(pipelineId, run.id, "a"));
  });

  it("fails a pod that does not start within the startup timeout, saying what it waits for", { timeout: TIMEOUT_MS }, async () => {
    const { h, run } = await runOne(`kubernetes: ${behaviourYaml({ outcome: "pending" }, { startup_timeout: "2s" })}`);
    const { ti } = await finished(h, run.id);
    expect(ti?.reason).toBe("the pod did not start within 2s (startup_timeout): container task is waiting: ContainerCreating");
  });

  it("shows the exit code with the termination message", { timeout: TIMEOUT_MS }, async () => {
    const { h, run } = await runOne(`kubernetes: ${behaviourYaml({ outcome: "fail", exitCode: 4, message: "disk full while writing part-0007" })}`);
    const { ti, attempts } = await finished(h, run.id);
    expect(ti?.reason).toBe("exit code 4: disk full while writing part-0007");
    expect(attempts[0]?.exitCode).toBe(4);
  });

  it("shows DeadlineExceeded when the kubelet stops a pod at its active deadline", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, env, pipelineId } = await runOne(`kubernetes: ${behaviourYaml({ outcome: "running" }, { active_deadline: "30s" })}`);
    const core = coreApi(env);
    const namespace = env.contexts.cpu.namespace;
    const name = attemptPod(pipelineId, run.id, "a");
    const pod = await waitForPod(core, namespace, name, (p) => p.status?.phase === "Running");
    expect(pod.spec?.activeDeadlineSeconds).toBe(30);
    // kwok has no deadline timer: the test writes the status a kubelet writes at the deadline.
    const status = pod.status ?? {};
    status.phase = "Failed";
    status.reason = "DeadlineExceeded";
    status.message = "Pod was active on the node longer than the specified deadline";
    await core.replaceNamespacedPodStatus({ namespace, name, body: { ...pod, status } });
    const { ti } = await finished(h, run.id);
    expect(ti?.reason).toBe("DeadlineExceeded: the pod ran longer than its active_deadline (30s): Pod was active on the node longer than the specified deadline");
  });

  it("treats a pod whose node was lost as lost, and retries it", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, env, pipelineId } = await runOne(`retries: 1, retry_delay: 0s, kubernetes: ${behaviourYaml({ outcome: "running" })}`);
    const core = coreApi(env);
    const namespace = env.contexts.cpu.namespace;
    const name = attemptPod(pipelineId, run.id, "a");
    const pod = await waitForPod(core, namespace, name, (p) => p.status?.phase === "Running");
    const status = pod.status ?? {};
    status.phase = "Unknown";
    status.reason = "NodeLost";
    status.message = "Node kwok-cpu which was running pod is unresponsive";
    await core.replaceNamespacedPodStatus({ namespace, name, body: { ...pod, status } });
    const second = attemptPod(pipelineId, run.id, "a", 2);
    await waitForPod(core, namespace, second, (p) => p.status?.phase === "Running");
    await waitForPodGone(core, namespace, name);
    const attempts = await eventually("first attempt lost", async () => {
      const list = await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "a" });
      return list[0]?.state === "lost" ? list : undefined;
    });
    expect(attempts[0]?.reason).toMatch(/^lost: node kwok-cpu stopped reporting the pod \(phase Unknown: Node kwok-cpu which was running pod is unresponsive\)/);
    expect(await readPod(core, namespace, second)).toBeDefined();
    await h.platform.scheduler.cancel(run.id);
  });
});
