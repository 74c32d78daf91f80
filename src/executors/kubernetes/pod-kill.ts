/**
 * Stopping an attempt (cancel, timeout, clear): its pod is deleted with the termination grace, and
 * the end arrives when the watch sees the pod go. A delete the API server did not take is retried.
 */
import { attemptKey, type AttemptRef } from "../executor.js";
import type { KubeExecutorState } from "./executor-state.js";
import { deletePod, podGone } from "./pod-end.js";
import type { TrackedPod } from "./tracked-pod.js";

export async function killAttempt(state: KubeExecutorState, ref: AttemptRef, reason: string): Promise<void> {
  const tracked = state.pods.get(attemptKey(ref));
  if (!tracked || tracked.ending) return;
  tracked.killedFor = reason;
  if (!tracked.created) return; // launch deletes it once the create returns
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
