/**
 * How an attempt's pod ends in Capstan: the log completed, why it failed noted, the on-finish policy
 * applied on every end path (a pod Capstan gives up on is always deleted, so nothing keeps running
 * untracked), then the end reported. Also the pod that disappeared, and the delete itself.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { SPARK_ATTEMPT_LABEL, withDriverFailure } from "../../spark/index.js";
import { failedEnd, lostEnd, withKillReason } from "../attempt-end.js";
import type { AttemptEnd } from "../executor.js";
import { apiStatus } from "./api-status.js";
import type { KubeExecutorState } from "./executor-state.js";
import { TASK_CONTAINER } from "./kube/index.js";
import { podLogStream, noteFailure } from "./pod-logs.js";
import { endOfPod, nodeLostReason } from "./pod-outcome.js";
import type { TrackedPod } from "./tracked-pod.js";

/** How an end came: whether the scheduler is told (not for ends found at adoption), whether the pod must be stopped or is gone. */
export interface EndPath {
  report: boolean;
  stopPod?: boolean;
  podGone?: boolean;
}

function containerStarted(pod: V1Pod | undefined): boolean {
  const status = pod?.status?.containerStatuses?.find((s) => s.name === TASK_CONTAINER) ?? pod?.status?.containerStatuses?.[0];
  return status?.state?.running !== undefined || status?.state?.terminated !== undefined;
}

/** Ends an attempt (once; a second end is ignored) and returns the end as reported. */
export async function finishAttempt(state: KubeExecutorState, tracked: TrackedPod, end: AttemptEnd, how: EndPath): Promise<AttemptEnd> {
  if (tracked.ending) return end;
  tracked.ending = true;
  for (const timer of tracked.timers) timer.clear();
  tracked.timers = [];
  if (tracked.followTimer) clearTimeout(tracked.followTimer);
  let result = withKillReason(end, tracked.killedFor);
  const podExists = how.podGone !== true;
  const started = containerStarted(tracked.lastPod);
  if (!tracked.logs && podExists && started) tracked.logs = podLogStream(tracked);
  await tracked.logs?.finish({ readRest: podExists && started, timeoutMs: state.options.finalLogTimeoutMs ?? 30_000 });
  // A Spark driver's reason ends with its exception, read from the end of its log.
  if ((tracked.attemptLabel ?? tracked.lastPod?.metadata?.labels?.[SPARK_ATTEMPT_LABEL]) !== undefined) result = withDriverFailure(result, tracked.logPath);
  if (result.outcome !== "success") await noteFailure(tracked, result, podExists);
  const policy = tracked.settings.onFinish;
  const remove = podExists && !tracked.deleting && (how.stopPod === true || policy === "delete" || (policy === "delete_succeeded" && result.outcome === "success"));
  if (remove) await deletePod(state, tracked, how.stopPod === true ? tracked.settings.terminationGraceSeconds : undefined);
  state.pods.remove(tracked);
  state.log.debug({ pod: tracked.podName, outcome: result.outcome, reason: result.reason }, "attempt ended");
  if (how.report) state.listener(tracked.ref, result);
  return result;
}

/** The pod disappeared: killed (as asked), or deleted from outside / with its node (lost). */
export async function podGone(state: KubeExecutorState, tracked: TrackedPod): Promise<void> {
  if (tracked.ending) return;
  const last = tracked.lastPod;
  let end: AttemptEnd;
  if (tracked.killedFor !== undefined) end = failedEnd(tracked.killedFor, true);
  else if (last && (last.status?.phase === "Succeeded" || last.status?.phase === "Failed")) end = endOfPod(last, tracked.preset);
  else {
    const node = last ? nodeLostReason(last) : undefined;
    end = lostEnd(node ?? `pod ${tracked.namespace}/${tracked.podName} was deleted outside Capstan${last?.spec?.nodeName ? ` (it ran on node ${last.spec.nodeName})` : ""}`);
  }
  await finishAttempt(state, tracked, end, { report: true, podGone: true });
}

/** Deletes the pod (with a grace period when stopping it); "gone" when it no longer exists. */
export async function deletePod(state: KubeExecutorState, tracked: TrackedPod, graceSeconds: number | undefined): Promise<"deleted" | "gone" | "failed"> {
  tracked.deleting = true;
  try {
    await tracked.cluster.core.deleteNamespacedPod({
      name: tracked.podName,
      namespace: tracked.namespace,
      ...(graceSeconds !== undefined ? { gracePeriodSeconds: graceSeconds } : {}),
      ...(tracked.uid !== undefined ? { body: { preconditions: { uid: tracked.uid } } } : {}),
    });
    return "deleted";
  } catch (error) {
    const api = apiStatus(error);
    if (api.code === 404 || api.code === 409) return "gone";
    tracked.deleting = false;
    state.log.warn({ pod: tracked.podName, namespace: tracked.namespace, cluster: tracked.cluster.name, err: error }, `could not delete pod: ${api.message}`);
    return "failed";
  }
}
