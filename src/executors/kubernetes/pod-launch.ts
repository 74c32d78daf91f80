/**
 * Launching an attempt as a pod: its location recorded before the create, the first launch in a
 * namespace waiting for its watch, the attempt's Secret created first and owned by the pod, and a
 * create the API server answers AlreadyExists taken over when the pod is this attempt's. The API
 * server's refusals become LaunchErrors that say whether retrying can help.
 */
import { appendFileSync } from "node:fs";
import { attemptKey, LaunchError, type AttemptLaunch, type LaunchInfo } from "../executor.js";
import { apiStatus, type ApiStatus } from "./api-status.js";
import { buildAttemptPod } from "./attempt-pod.js";
import { createSecret, deleteSecret, ownSecret } from "./attempt-secret.js";
import type { KubeExecutorState } from "./executor-state.js";
import type { KubeCluster } from "./kube/index.js";
import { adoptExistingPod, recordPodLocation } from "./pod-adoption.js";
import { killAttempt } from "./pod-kill.js";
import { armStartTimers, evaluatePod, informerFor, onPodEvent } from "./pod-watch.js";
import { launchSparkDriver } from "./spark-driver.js";
import { newTrackedPod, podCreatedAt } from "./tracked-pod.js";

const INFORMER_START_WAIT_MS = 10_000;

export async function launchPod(state: KubeExecutorState, launch: AttemptLaunch): Promise<LaunchInfo> {
  if (launch.task.spark !== undefined) return launchSparkDriver(state, launch, { python: state.options.sparkPython ?? "python3" });
  const key = attemptKey(launch);
  if (state.pods.get(key)) throw new LaunchError(`attempt ${launch.tryNumber} of ${launch.taskId} is already running`, { retryable: false });
  const { cluster, namespace, pod, secret, settings, preset } = buildAttemptPod(state.clusters, launch);
  const podName = pod.metadata?.name ?? "";
  const tracked = newTrackedPod({
    key,
    ref: { runId: launch.runId, taskId: launch.taskId, tryNumber: launch.tryNumber, token: launch.token },
    cluster,
    namespace,
    podName,
    logPath: launch.logPath,
    settings,
    preset,
    created: false,
    killedFor: undefined,
    replaceLog: false,
    checkAfterSync: false,
  });
  recordPodLocation(launch.attemptDir, { cluster: cluster.name, namespace, pod: podName });
  appendFileSync(launch.logPath, "");
  state.pods.add(tracked);
  const informer = informerFor(state, cluster, namespace);
  // The first launch in a namespace waits for its watch (bounded: an API server that does not
  // answer makes the create below fail with a clear reason instead of hanging here).
  await Promise.race([informer.start(), new Promise((resolve) => setTimeout(resolve, INFORMER_START_WAIT_MS).unref())]);
  if (secret) {
    try {
      await createSecret(cluster, namespace, secret, tracked.ref);
    } catch (error) {
      state.pods.remove(tracked);
      if (error instanceof LaunchError) throw error;
      throw createError(apiStatus(error), error, cluster, namespace, podName, "Secret");
    }
  }
  try {
    const created = await cluster.core.createNamespacedPod({ namespace, body: pod });
    if (secret) await ownSecret(state, cluster, namespace, podName, created);
    tracked.created = true;
    tracked.uid ??= created.metadata?.uid;
    tracked.createdAt ??= podCreatedAt(created, state.clock);
  } catch (error) {
    const api = apiStatus(error);
    if (api.code === 409 && api.reason === "AlreadyExists") {
      const adopted = await adoptExistingPod(state, tracked, informer);
      if (adopted && secret && tracked.uid) await ownSecret(state, cluster, namespace, podName, { metadata: { uid: tracked.uid } });
      if (!adopted) {
        state.pods.remove(tracked);
        throw new LaunchError(`pod ${namespace}/${podName} already exists on cluster ${cluster.name} and belongs to another attempt; delete it or rename the task`, { retryable: false });
      }
    } else {
      state.pods.remove(tracked);
      if (secret) await deleteSecret(state, cluster, namespace, podName);
      throw createError(api, error, cluster, namespace, podName);
    }
  }
  armStartTimers(state, tracked);
  if (tracked.killedFor !== undefined) state.defer(killAttempt(state, tracked.ref, tracked.killedFor));
  else if (tracked.lastPod) evaluatePod(state, tracked, tracked.lastPod);
  else {
    const cached = informer.get(podName);
    if (cached) onPodEvent(state, cluster.name, namespace, "update", cached);
  }
  return { externalId: `${cluster.name}/${namespace}/${podName}` };
}

/** A create the API server refused, as a LaunchError that says whether retrying can help. */
function createError(api: ApiStatus, error: unknown, cluster: KubeCluster, namespace: string, podName: string, what: "pod" | "Secret" = "pod"): LaunchError {
  const where = `cluster ${cluster.name}`;
  if (api.code === 404 && api.kind === "namespaces") {
    return new LaunchError(`namespace ${namespace} does not exist on ${where}; create it or choose another with namespace:`, { retryable: false, cause: error });
  }
  if (api.code === 422 || api.code === 400) {
    return new LaunchError(`the API server of ${where} rejected ${what} ${podName}: ${api.message}`, { retryable: false, cause: error });
  }
  if (api.code === 403) {
    return new LaunchError(`the API server of ${where} refused to create ${what} ${podName} in ${namespace}: ${api.message}`, { retryable: /exceeded quota/i.test(api.message), cause: error });
  }
  if (api.code === 401) {
    return new LaunchError(`the API server of ${where} did not accept Capstan's credentials (${api.message}); check the kubeconfig of clusters.${cluster.name}`, { retryable: true, cause: error });
  }
  if (api.code === undefined) {
    return new LaunchError(`cannot reach the API server of ${where} at ${cluster.server}: ${api.message}`, { retryable: true, cause: error });
  }
  return new LaunchError(`creating ${what} ${podName} on ${where} failed (HTTP ${api.code}): ${api.message}`, { retryable: true, cause: error });
}
