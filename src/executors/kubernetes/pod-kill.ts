/**
 * Stopping an attempt (cancel, timeout, clear): its pod is deleted with the termination grace, and
 * the end arrives when the watch sees the pod go. A delete the API server did not take is retried.
 */
import { SPARK_ATTEMPT_LABEL } from "../../spark/index.js";
import { attemptKey, type AttemptRef } from "../executor.js";
import { apiStatus } from "./api-status.js";
import type { KubeExecutorState } from "./executor-state.js";
import type { KubeCluster } from "./kube/index.js";
import { deletePod, podGone } from "./pod-end.js";
import type { TrackedPod } from "./tracked-pod.js";

export async function killAttempt(state: KubeExecutorState, ref: AttemptRef, reason: string): Promise<void> {
  const tracked = state.pods.get(attemptKey(ref));
  if (!tracked || tracked.ending) return;
  tracked.killedFor = reason;
  if (!tracked.created) return; // launch deletes it once the create returns
  const sparkAttempt = tracked.attemptLabel ?? tracked.lastPod?.metadata?.labels?.[SPARK_ATTEMPT_LABEL];
  if (sparkAttempt !== undefined) await deleteSparkPods(state, tracked.cluster, tracked.namespace, sparkAttempt, tracked.settings.terminationGraceSeconds, false);
  const result = await deletePod(state, tracked, tracked.settings.terminationGraceSeconds);
  if (result === "gone") await podGone(state, tracked);
  else if (result === "failed") retryDelete(state, tracked);
}

function retryDelete(state: KubeExecutorState, tracked: TrackedPod): void {
  const timer = setTimeout(() => {
    if (tracked.ending || state.closed || tracked.killedFor === undefined) return;
    state.defer(killAttempt(state, tracked.ref, tracked.killedFor));
  }, state.options.deleteRetryMs ?? 5000);
  timer.unref();
}

/**
 * Deletes the pods of a Spark attempt by its label: the executors (and, with `withDriver`, the
 * driver, which the caller may delete itself to follow its end).
 */
export async function deleteSparkPods(state: KubeExecutorState, cluster: KubeCluster, namespace: string, attempt: string, graceSeconds: number, withDriver = true): Promise<void> {
  const selector = `${SPARK_ATTEMPT_LABEL}=${attempt}${withDriver ? "" : `,spark-role!=driver`}`;
  try {
    await cluster.core.deleteCollectionNamespacedPod({ namespace, labelSelector: selector, gracePeriodSeconds: graceSeconds });
  } catch (error) {
    state.log.warn({ namespace, cluster: cluster.name, err: error }, `could not delete the pods of Spark attempt ${attempt}: ${apiStatus(error).message}`);
  }
}
