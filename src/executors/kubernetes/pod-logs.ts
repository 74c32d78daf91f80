/**
 * An attempt's log from its pod: followed once the container has run a while (a pod that ends sooner
 * is read once after its end), and, when the attempt failed, why, with the pod's state and events
 * written after the container's own output.
 */
import type { AttemptEnd } from "../executor.js";
import type { KubeExecutorState } from "./executor-state.js";
import { PodLogStream, TASK_CONTAINER } from "./kube/index.js";
import { describePod } from "./pod-outcome.js";
import type { TrackedPod } from "./tracked-pod.js";

/** Starts following the log of a running container, after the follow delay. */
export function startLogs(state: KubeExecutorState, tracked: TrackedPod): void {
  if (tracked.logs || tracked.followTimer || state.closed || tracked.submitting === true) return;
  const delay = state.options.logFollowDelayMs ?? 1000;
  const follow = () => {
    tracked.followTimer = undefined;
    if (tracked.ending || tracked.logs || state.closed) return;
    tracked.logs = podLogStream(tracked);
    tracked.logs.follow();
  };
  if (delay <= 0) {
    follow();
    return;
  }
  tracked.followTimer = setTimeout(follow, delay);
  tracked.followTimer.unref();
}

/** The stream that copies the task container's log into the attempt's log file. */
export function podLogStream(tracked: Pick<TrackedPod, "cluster" | "namespace" | "podName" | "logPath" | "replaceLog" | "logStart">): PodLogStream {
  return new PodLogStream({
    config: tracked.cluster.config,
    namespace: tracked.namespace,
    pod: tracked.podName,
    container: TASK_CONTAINER,
    path: tracked.logPath,
    counter: tracked.cluster.counter,
    replace: tracked.replaceLog,
    ...(tracked.logStart !== undefined ? { keep: tracked.logStart } : {}),
  });
}

/** Writes why the attempt failed, the pod's state and its events after the container's log. */
export async function noteFailure(tracked: TrackedPod, end: AttemptEnd, podExists: boolean): Promise<void> {
  const lines = [`capstan: attempt ${tracked.ref.tryNumber} of ${tracked.ref.taskId} ended (${end.outcome}): ${end.reason ?? ""}`];
  if (tracked.lastPod) lines.push(...describePod(tracked.lastPod).map((l) => `capstan: ${l}`));
  if (podExists && tracked.killedFor === undefined) {
    try {
      const events = await tracked.cluster.core.listNamespacedEvent({ namespace: tracked.namespace, fieldSelector: `involvedObject.name=${tracked.podName}` });
      for (const e of events.items.slice(-20)) lines.push(`capstan: event ${e.type ?? ""} ${e.reason ?? ""}: ${(e.message ?? "").replace(/\s+/g, " ")}`);
    } catch {
      // events are a help, not a requirement
    }
  }
  const writer = tracked.logs ?? podLogStream({ ...tracked, replaceLog: false });
  await writer.note(lines.join("\n"));
}
