/**
 * The watch of an attempt's pod: one informer per cluster and namespace reports every pod's changes
 * (nothing polls a pod), each change moves the attempt on (running: follow its log; ended, lost,
 * failed to start: finish it), and timers fail a pod still waiting when its scheduling or startup
 * time is up.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { formatDuration } from "../../units/index.js";
import { failedEnd, lostEnd } from "../attempt-end.js";
import type { KubeExecutorState } from "./executor-state.js";
import { podBelongsTo, PodInformer, type KubeCluster, type PodEventType } from "./kube/index.js";
import { finishAttempt, podGone } from "./pod-end.js";
import { startLogs } from "./pod-logs.js";
import { podProgress } from "./pod-outcome.js";
import { takeRecordFromPod, type TrackedPod } from "./tracked-pod.js";

function informerKey(cluster: string, namespace: string): string {
  return `${cluster}\u0000${namespace}`;
}

/** The informer of a cluster's namespace, made (not started) on first use. */
export function informerFor(state: KubeExecutorState, cluster: KubeCluster, namespace: string): PodInformer {
  const key = informerKey(cluster.name, namespace);
  let informer = state.informers.get(key);
  if (!informer) {
    informer = new PodInformer({
      cluster,
      namespace,
      counter: cluster.counter,
      onEvent: (type, pod) => onPodEvent(state, cluster.name, namespace, type, pod),
      onSynced: () => afterSync(state, cluster.name, namespace),
      onError: (error, retryInMs) => state.log.warn({ cluster: cluster.name, namespace, err: error, retryInMs }, "pod watch stopped; restarting it"),
      ...(state.options.informerBackoffMs !== undefined ? { initialBackoffMs: state.options.informerBackoffMs } : {}),
      ...(state.options.informerMaxBackoffMs !== undefined ? { maxBackoffMs: state.options.informerMaxBackoffMs } : {}),
    });
    state.informers.set(key, informer);
  }
  return informer;
}

/** Attempts adopted before their namespace could be listed: those whose pod is missing are lost. */
function afterSync(state: KubeExecutorState, cluster: string, namespace: string): void {
  const informer = state.informers.get(informerKey(cluster, namespace));
  for (const tracked of state.pods.all()) {
    if (!tracked.checkAfterSync || tracked.cluster.name !== cluster || tracked.namespace !== namespace || tracked.ending) continue;
    tracked.checkAfterSync = false;
    const pod = informer?.get(tracked.podName);
    if (!pod || !podBelongsTo(pod.metadata?.annotations, tracked.ref)) {
      state.defer(podGone(state, tracked));
      continue;
    }
    takeRecordFromPod(tracked, pod, state.clock);
    armStartTimers(state, tracked);
    onPodEvent(state, cluster, namespace, "update", pod);
  }
}

/** A change of a pod in a watched namespace. */
export function onPodEvent(state: KubeExecutorState, cluster: string, namespace: string, type: PodEventType, pod: V1Pod): void {
  const tracked = state.pods.atPod(cluster, namespace, pod.metadata?.name ?? "");
  if (!tracked || tracked.ending || tracked.checkAfterSync) return;
  if (tracked.uid !== undefined && pod.metadata?.uid !== undefined && pod.metadata.uid !== tracked.uid) return;
  tracked.lastPod = pod;
  if (type === "delete") {
    if (tracked.created) state.defer(podGone(state, tracked));
    return;
  }
  if (!podBelongsTo(pod.metadata?.annotations, tracked.ref)) return;
  tracked.created = true;
  tracked.uid ??= pod.metadata?.uid;
  evaluatePod(state, tracked, pod);
}

/** Moves the attempt on by what its pod shows now. */
export function evaluatePod(state: KubeExecutorState, tracked: TrackedPod, pod: V1Pod): void {
  const progress = podProgress(pod, tracked.preset);
  switch (progress.kind) {
    case "ended":
      // A pod someone else deleted ends killed: the attempt was lost, not failed by the task.
      if (pod.metadata?.deletionTimestamp && !tracked.deleting && tracked.killedFor === undefined && progress.end.outcome !== "success") {
        state.defer(finishAttempt(state, tracked, lostEnd(`pod ${tracked.namespace}/${tracked.podName} was deleted outside Capstan while it ran (${progress.end.reason ?? ""})`), { report: true }));
        return;
      }
      state.defer(finishAttempt(state, tracked, progress.end, { report: true }));
      return;
    case "lost":
      state.defer(finishAttempt(state, tracked, lostEnd(progress.reason), { report: true, stopPod: true }));
      return;
    case "failed-start":
      state.defer(finishAttempt(state, tracked, failedEnd(progress.reason, progress.retryable), { report: true, stopPod: true }));
      return;
    case "running":
      for (const timer of tracked.timers) timer.clear();
      tracked.timers = [];
      startLogs(state, tracked);
      return;
    case "pending":
      return;
  }
}

/** Sets the scheduling and startup timers, counted from the pod's creation. */
export function armStartTimers(state: KubeExecutorState, tracked: TrackedPod): void {
  for (const timer of tracked.timers) timer.clear();
  const created = tracked.createdAt ?? state.clock.now();
  const { schedulingTimeoutMs, startupTimeoutMs } = tracked.settings;
  tracked.timers = [
    state.clock.setTimer(created + schedulingTimeoutMs, () => startTimeout(state, tracked, "scheduling")),
    state.clock.setTimer(created + startupTimeoutMs, () => startTimeout(state, tracked, "startup")),
  ];
}

/** A pod still waiting when its scheduling or startup time is up fails the attempt. */
function startTimeout(state: KubeExecutorState, tracked: TrackedPod, which: "scheduling" | "startup"): void {
  if (tracked.ending || state.closed || tracked.killedFor !== undefined) return;
  const pod = tracked.lastPod;
  const { schedulingTimeoutMs, startupTimeoutMs } = tracked.settings;
  if (!pod) {
    if (which === "startup") state.defer(finishAttempt(state, tracked, failedEnd(`the pod was not seen within ${formatDuration(startupTimeoutMs)} (startup_timeout): the watch of ${tracked.cluster.name}/${tracked.namespace} reported nothing`, true), { report: true, stopPod: true }));
    return;
  }
  const progress = podProgress(pod, tracked.preset);
  if (progress.kind !== "pending") return;
  if (which === "scheduling" && progress.scheduled) return;
  let reason: string;
  if (progress.unschedulable !== undefined) {
    reason = `Unschedulable: ${progress.unschedulable} (not scheduled within ${formatDuration(which === "scheduling" ? schedulingTimeoutMs : startupTimeoutMs)}, ${which}_timeout)`;
  } else if (which === "scheduling") {
    reason = `the pod was not scheduled within ${formatDuration(schedulingTimeoutMs)} (scheduling_timeout)`;
  } else {
    reason = `the pod did not start within ${formatDuration(startupTimeoutMs)} (startup_timeout)${progress.waiting ? `: ${progress.waiting}` : ""}`;
  }
  state.defer(finishAttempt(state, tracked, failedEnd(reason, true), { report: true, stopPod: true }));
}
