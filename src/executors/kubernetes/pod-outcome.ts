/**
 * Reads a pod's status as the watch reports it and says where the attempt stands: waiting to be
 * scheduled or started, running, ended (with the exit code, termination message and a reason:
 * OOMKilled, Evicted, DeadlineExceeded, …), failed to start (the image cannot be pulled), or lost
 * (its node is gone).
 */
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { exitCodeReason, exitedFailing, exitedZero, keptOutputs, type WrittenOutputs } from "../attempt-end.js";
import type { AttemptEnd } from "../executor.js";
import { oneLine } from "../one-line.js";
import { TASK_CONTAINER } from "./kube/index.js";

/** Where an attempt's pod stands. */
export type PodProgress =
  | { kind: "pending"; scheduled: boolean; unschedulable: string | undefined; waiting: string | undefined }
  | { kind: "running" }
  | { kind: "ended"; end: AttemptEnd }
  | { kind: "failed-start"; reason: string; retryable: boolean }
  | { kind: "lost"; reason: string };

/** Largest termination message the kubelet keeps (bytes). */
export const TERMINATION_MESSAGE_LIMIT = 4096;

const PULL_ERRORS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"]);
const NODE_LOST_REASONS = new Set(["NodeLost", "NodeShutdown", "Shutdown"]);
const NODE_LOST_DISRUPTIONS = new Set(["DeletionByTaintManager", "DeletionByPodGC"]);

function taskStatus(pod: V1Pod): V1ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((s) => s.name === TASK_CONTAINER) ?? statuses[0];
}

/** Parses the termination message as the task's outputs (one JSON object), if it is one. */
function outputsOf(message: string | undefined): WrittenOutputs {
  const text = (message ?? "").trim();
  if (text === "") return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return { value: value as Record<string, unknown> };
    return { error: "outputs: the termination message ($CAPSTAN_OUTPUT) must hold one JSON object such as {\"rows\": 10}" };
  } catch (error) {
    if (text.startsWith("{")) {
      const cut = Buffer.byteLength(text) >= TERMINATION_MESSAGE_LIMIT ? ` (it is ${Buffer.byteLength(text)} bytes: the kubelet keeps at most 4 KiB; write large results to a volume and output their path)` : "";
      return { error: `outputs: the termination message ($CAPSTAN_OUTPUT) is not valid JSON${cut}: ${(error as Error).message}` };
    }
    return { text };
  }
}

/** Why the pod's node is gone, if it is. */
export function nodeLostReason(pod: V1Pod): string | undefined {
  const node = pod.spec?.nodeName ?? "(unknown)";
  if (pod.status?.phase === "Unknown") return `node ${node} stopped reporting the pod (phase Unknown${pod.status.message ? `: ${oneLine(pod.status.message)}` : ""})`;
  if (pod.status?.reason && NODE_LOST_REASONS.has(pod.status.reason)) return `node ${node} was lost (${pod.status.reason}${pod.status.message ? `: ${oneLine(pod.status.message)}` : ""})`;
  const disruption = pod.status?.conditions?.find((c) => c.type === "DisruptionTarget" && c.status === "True");
  if (disruption?.reason && NODE_LOST_DISRUPTIONS.has(disruption.reason)) return `node ${node} was lost (${disruption.reason}${disruption.message ? `: ${oneLine(disruption.message)}` : ""})`;
  return undefined;
}

/** The end of an attempt whose task container terminated (or whose pod reached a final phase). */
export function endOfPod(pod: V1Pod, preset: Record<string, string>): AttemptEnd {
  const status = taskStatus(pod);
  const terminated = status?.state?.terminated;
  const exitCode = terminated?.exitCode ?? null;
  const outputs = outputsOf(terminated?.message);
  const kept = keptOutputs(outputs, preset);
  const podReason = pod.status?.reason;
  const podMessage = pod.status?.message ? oneLine(pod.status.message) : "";

  if (exitCode === 0 && podReason !== "Evicted" && podReason !== "DeadlineExceeded") return exitedZero(outputs, preset);
  const disruption = pod.status?.conditions?.find((c) => c.type === "DisruptionTarget" && c.status === "True");
  if (podReason === "Evicted") {
    return { outcome: "failed", exitCode, reason: `Evicted: ${podMessage || "the kubelet evicted the pod"}`, outputs: kept, retryable: true };
  }
  if (podReason === "DeadlineExceeded") {
    const seconds = pod.spec?.activeDeadlineSeconds;
    return { outcome: "failed", exitCode, reason: `DeadlineExceeded: the pod ran longer than its active_deadline${seconds !== undefined ? ` (${seconds}s)` : ""}${podMessage ? `: ${podMessage}` : ""}`, outputs: kept, retryable: true };
  }
  if (disruption?.reason === "PreemptionByScheduler") {
    return { outcome: "failed", exitCode, reason: `Preempted: ${disruption.message ? oneLine(disruption.message) : "a pod of higher priority took its place"}`, outputs: kept, retryable: true };
  }
  if (disruption?.reason === "EvictionByEvictionAPI") {
    return { outcome: "failed", exitCode, reason: `Evicted: ${disruption.message ? oneLine(disruption.message) : "evicted through the eviction API"}`, outputs: kept, retryable: true };
  }
  if (terminated?.reason === "OOMKilled") {
    const container = pod.spec?.containers.find((c) => c.name === TASK_CONTAINER);
    const limit = container?.resources?.limits?.memory;
    return { outcome: "failed", exitCode, reason: `OOMKilled: the container went over its memory limit${limit ? ` (${limit} bytes)` : ""} and was killed (exit code ${exitCode ?? 137})`, outputs: kept, retryable: true };
  }
  if (exitCode !== null) {
    const containerReason = terminated?.reason && terminated.reason !== "Error" && terminated.reason !== "Completed" ? ` (${terminated.reason})` : "";
    return exitedFailing(exitCode, `${exitCodeReason(exitCode, { notExecutable: true })}${containerReason}`, outputs, preset, { noteOutputsProblem: true });
  }
  const why = podReason ? `${podReason}${podMessage ? `: ${podMessage}` : ""}` : podMessage || "the pod failed before its container ran";
  return { outcome: "failed", exitCode: null, reason: `pod failed: ${why}`, outputs: null, retryable: true };
}

/** Where the attempt of this pod stands. */
export function podProgress(pod: V1Pod, preset: Record<string, string>): PodProgress {
  const lost = nodeLostReason(pod);
  if (lost) return { kind: "lost", reason: lost };
  const phase = pod.status?.phase;
  const status = taskStatus(pod);
  if (phase === "Succeeded" || phase === "Failed" || status?.state?.terminated) return { kind: "ended", end: endOfPod(pod, preset) };
  const waiting = status?.state?.waiting;
  if (waiting?.reason && PULL_ERRORS.has(waiting.reason)) {
    const image = status?.image ?? pod.spec?.containers.find((c) => c.name === TASK_CONTAINER)?.image ?? "(unknown)";
    return {
      kind: "failed-start",
      reason: `${waiting.reason}: image ${image} cannot be pulled${waiting.message ? `: ${oneLine(waiting.message)}` : ""}`,
      retryable: waiting.reason !== "InvalidImageName" && waiting.reason !== "ErrImageNeverPull",
    };
  }
  if (phase === "Running" || status?.state?.running) return { kind: "running" };
  const scheduledCondition = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  const scheduled = scheduledCondition?.status === "True" || pod.spec?.nodeName !== undefined;
  const unschedulable = scheduledCondition?.status === "False" && scheduledCondition.reason === "Unschedulable" ? oneLine(scheduledCondition.message ?? "no node fits the pod", 1000) : undefined;
  const waitingText = waiting?.reason ? `container ${status?.name ?? TASK_CONTAINER} is waiting: ${waiting.reason}${waiting.message ? `: ${oneLine(waiting.message)}` : ""}` : undefined;
  return { kind: "pending", scheduled, unschedulable, waiting: waitingText };
}

/** A short account of a pod's state for the attempt's log when it failed. */
export function describePod(pod: V1Pod): string[] {
  const lines = [`pod ${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}: phase ${pod.status?.phase ?? "(none)"}${pod.status?.reason ? `, reason ${pod.status.reason}` : ""}${pod.spec?.nodeName ? `, node ${pod.spec.nodeName}` : ""}`];
  if (pod.status?.message) lines.push(`  message: ${oneLine(pod.status.message)}`);
  for (const c of pod.status?.conditions ?? []) {
    if (c.status !== "True" || c.type === "DisruptionTarget") lines.push(`  condition ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ""}${c.message ? `: ${oneLine(c.message)}` : ""}`);
  }
  for (const s of pod.status?.containerStatuses ?? []) {
    const state = s.state?.terminated
      ? `terminated, exit code ${s.state.terminated.exitCode}${s.state.terminated.reason ? ` (${s.state.terminated.reason})` : ""}`
      : s.state?.waiting
        ? `waiting (${s.state.waiting.reason ?? ""}${s.state.waiting.message ? `: ${oneLine(s.state.waiting.message)}` : ""})`
        : s.state?.running
          ? "running"
          : "unknown";
    lines.push(`  container ${s.name}: ${state}`);
  }
  return lines;
}
