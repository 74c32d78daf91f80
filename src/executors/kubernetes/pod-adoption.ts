/**
 * Adoption: re-finding the pods of attempts a stopped scheduler left running (by the external id
 * `cluster/namespace/pod`, else by the pod.json written before the create), collecting those that
 * ended meanwhile, and taking over a pod a create found already there (another start of the same
 * attempt made it).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { failedEnd, lostEnd } from "../attempt-end.js";
import { attemptKey, type AdoptResult, type StoredAttempt } from "../executor.js";
import type { KubeExecutorState } from "./executor-state.js";
import { podBelongsTo, type KubeCluster, type PodInformer } from "./kube/index.js";
import { settleAdoptedSecret } from "./attempt-secret.js";
import { finishAttempt } from "./pod-end.js";
import { startLogs } from "./pod-logs.js";
import { podProgress } from "./pod-outcome.js";
import { armStartTimers, informerFor } from "./pod-watch.js";
import { newTrackedPod, takeRecordFromPod, type TrackedPod } from "./tracked-pod.js";

/** Where an attempt's pod lives; also its external id `cluster/namespace/pod`. */
export interface PodLocation {
  cluster: string;
  namespace: string;
  pod: string;
  /** Bytes at the head of the attempt's log written before the pod's own (a Spark driver's spark-submit output). */
  logStart?: number;
}

const EXTERNAL_ID = /^([^/]+)\/([^/]+)\/([^/]+)$/;
const POD_FILE = "pod.json";

/** Records where the attempt's pod will be, before the create, so a restarted scheduler knows where to look. */
export function recordPodLocation(attemptDir: string, location: PodLocation): void {
  writeFileSync(join(attemptDir, POD_FILE), JSON.stringify(location));
}

/** Where a stored attempt's pod is: from its external id, else the file written before the create. */
function storedLocation(attempt: StoredAttempt): PodLocation | undefined {
  let recorded: Partial<PodLocation> = {};
  if (attempt.attemptDir) {
    try {
      recorded = JSON.parse(readFileSync(join(attempt.attemptDir, POD_FILE), "utf8")) as Partial<PodLocation>;
    } catch {
      // no pod was recorded: the create was never sent
    }
  }
  const logStart = typeof recorded.logStart === "number" && recorded.logStart > 0 ? { logStart: recorded.logStart } : {};
  const match = EXTERNAL_ID.exec(attempt.externalId);
  if (match) return { cluster: match[1] ?? "", namespace: match[2] ?? "", pod: match[3] ?? "", ...logStart };
  if (recorded.cluster && recorded.namespace && recorded.pod) return { cluster: recorded.cluster, namespace: recorded.namespace, pod: recorded.pod, ...logStart };
  return undefined;
}

export async function adoptAttempts(state: KubeExecutorState, attempts: readonly StoredAttempt[]): Promise<Map<string, AdoptResult>> {
  const results = new Map<string, AdoptResult>();
  await Promise.all(attempts.map(async (attempt) => results.set(attemptKey(attempt), await adoptOne(state, attempt))));
  return results;
}

async function adoptOne(state: KubeExecutorState, attempt: StoredAttempt): Promise<AdoptResult> {
  const killed = attempt.killReason;
  const location = storedLocation(attempt);
  if (!location) {
    return { status: "ended", end: lostEnd(killed ? `killed (${killed}) before its pod was created` : "the scheduler stopped before the attempt's pod was created") };
  }
  let cluster: KubeCluster;
  try {
    cluster = state.clusters.get(location.cluster);
  } catch (error) {
    return { status: "ended", end: lostEnd(`cannot look for pod ${location.namespace}/${location.pod}: ${(error as Error).message}`) };
  }
  const informer = informerFor(state, cluster, location.namespace);
  void informer.start();
  const synced = await informer.whenSynced(state.options.adoptSyncTimeoutMs ?? 60_000);
  const tracked = newTrackedPod({
    key: attemptKey(attempt),
    ref: { runId: attempt.runId, taskId: attempt.taskId, tryNumber: attempt.tryNumber, token: attempt.token },
    cluster,
    namespace: location.namespace,
    podName: location.pod,
    logPath: attempt.logPath ?? join(attempt.attemptDir ?? ".", "log"),
    settings: { onFinish: cluster.settings.onFinish, startupTimeoutMs: cluster.settings.startupTimeoutMs, schedulingTimeoutMs: cluster.settings.schedulingTimeoutMs, terminationGraceSeconds: Math.ceil(cluster.settings.terminationGraceMs / 1000) },
    preset: {},
    created: true,
    killedFor: killed ?? undefined,
    replaceLog: true,
    checkAfterSync: !synced,
  });
  if (location.logStart !== undefined) tracked.logStart = location.logStart;
  if (!synced) {
    // The API server does not answer yet: keep the attempt and check once the namespace is listed.
    state.log.warn({ cluster: cluster.name, namespace: location.namespace, pod: location.pod }, "could not list pods to adopt an attempt; will check when the API server answers");
    state.pods.add(tracked);
    return { status: "running" };
  }
  const found = informer.get(location.pod);
  const pod = found !== undefined && podBelongsTo(found.metadata?.annotations, attempt) ? found : undefined;
  await settleAdoptedSecret(state, cluster, location.namespace, location.pod, attempt, pod);
  if (!pod) {
    return { status: "ended", end: killed ? failedEnd(killed, true) : lostEnd(`pod ${location.namespace}/${location.pod} on cluster ${location.cluster} no longer exists (it was deleted while the scheduler was down)`) };
  }
  tracked.uid = pod.metadata?.uid;
  tracked.lastPod = pod;
  takeRecordFromPod(tracked, pod, state.clock);
  state.pods.add(tracked);
  const progress = podProgress(pod, tracked.preset);
  if (progress.kind === "ended") return { status: "ended", end: await finishAttempt(state, tracked, progress.end, { report: false }) };
  if (progress.kind === "lost") return { status: "ended", end: await finishAttempt(state, tracked, lostEnd(progress.reason), { report: false, stopPod: true }) };
  if (progress.kind === "failed-start") return { status: "ended", end: await finishAttempt(state, tracked, failedEnd(progress.reason, progress.retryable), { report: false, stopPod: true }) };
  if (pod.metadata?.deletionTimestamp) tracked.deleting = true;
  armStartTimers(state, tracked);
  if (progress.kind === "running") startLogs(state, tracked);
  return { status: "running" };
}

/** The pod a create found already there: this attempt's (take it over) or someone else's (false). */
export async function adoptExistingPod(state: KubeExecutorState, tracked: TrackedPod, informer: PodInformer): Promise<boolean> {
  let existing = informer.get(tracked.podName);
  if (!existing) {
    try {
      existing = await tracked.cluster.core.readNamespacedPod({ namespace: tracked.namespace, name: tracked.podName });
    } catch {
      existing = undefined;
    }
  }
  if (!existing || !podBelongsTo(existing.metadata?.annotations, tracked.ref)) return false;
  state.log.info({ pod: tracked.podName, namespace: tracked.namespace, cluster: tracked.cluster.name }, "pod already existed; adopting it");
  tracked.created = true;
  tracked.uid = existing.metadata?.uid;
  tracked.lastPod = existing;
  takeRecordFromPod(tracked, existing, state.clock);
  tracked.replaceLog = true;
  return true;
}
