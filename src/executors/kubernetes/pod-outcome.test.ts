import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { endOfPod, podProgress } from "./pod-outcome.js";

function pod(status: V1Pod["status"], spec: Partial<NonNullable<V1Pod["spec"]>> = {}): V1Pod {
  return { metadata: { name: "p", namespace: "ns" }, spec: { containers: [{ name: "task", image: "ghcr.io/t/a:1", resources: { limits: { memory: "1024" } } }], nodeName: "n1", ...spec }, status };
}
const terminated = (exitCode: number, reason: string, message?: string) => ({ containerStatuses: [{ name: "task", image: "ghcr.io/t/a:1", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode, reason, ...(message ? { message } : {}) } } }] });

describe("reading a pod's status", () => {
  it("takes the outputs of a succeeded pod from its termination message", () => {
    expect(endOfPod(pod({ phase: "Succeeded", ...terminated(0, "Completed", '{"rows": 3}') }), { notebook: "/x.ipynb" })).toEqual({ outcome: "success", exitCode: 0, reason: null, outputs: { rows: 3, notebook: "/x.ipynb" }, retryable: true });
  });

  it("fails a succeeded pod whose termination message is not a JSON object", () => {
    expect(endOfPod(pod({ phase: "Succeeded", ...terminated(0, "Completed", "[1]") }), {}).reason).toMatch(/must hold one JSON object/);
  });

  it("names OOMKilled, the exit code with its message, and signals", () => {
    expect(endOfPod(pod({ phase: "Failed", ...terminated(137, "OOMKilled") }), {}).reason).toBe("OOMKilled: the container went over its memory limit (1024 bytes) and was killed (exit code 137)");
    expect(endOfPod(pod({ phase: "Failed", ...terminated(2, "Error", "no input") }), {}).reason).toBe("exit code 2: no input");
    const notebook = endOfPod(pod({ phase: "Failed", ...terminated(1, "Error", "exception in cell 2 (In [2]): ValueError: bad") }), { notebook: "/x.ipynb" });
    expect(notebook).toMatchObject({ reason: "exit code 1: exception in cell 2 (In [2]): ValueError: bad", outputs: { notebook: "/x.ipynb" } });
    expect(endOfPod(pod({ phase: "Failed", ...terminated(143, "Error") }), {}).reason).toBe("exit code 143 (killed by signal 15)");
  });

  it("tells pending, unschedulable, pull errors, running and lost nodes apart", () => {
    expect(podProgress(pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available" }] }, { nodeName: undefined }), {})).toEqual({ kind: "pending", scheduled: false, unschedulable: "0/3 nodes are available", waiting: undefined });
    expect(podProgress(pod({ phase: "Pending", containerStatuses: [{ name: "task", image: "ghcr.io/t/a:1", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ImagePullBackOff", message: "Back-off" } } }] }), {})).toMatchObject({ kind: "failed-start", reason: "ImagePullBackOff: image ghcr.io/t/a:1 cannot be pulled: Back-off" });
    expect(podProgress(pod({ phase: "Running" }), {})).toEqual({ kind: "running" });
    expect(podProgress(pod({ phase: "Running", conditions: [{ type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint" }] }), {})).toMatchObject({ kind: "lost", reason: "node n1 was lost (DeletionByTaintManager: Taint manager: deleting due to NoExecute taint)" });
  });
});
