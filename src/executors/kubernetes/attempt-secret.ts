/**
 * The Secret of one attempt, which holds its values from Capstan's secret store so that the pod's
 * spec only references them: created before the pod (one an earlier start of the same attempt left
 * is replaced), owned by the pod once it exists so the cluster deletes it with the pod, and deleted
 * when the pod could not be made.
 */
import { PatchStrategy, setHeaderOptions, type V1Pod, type V1Secret } from "@kubernetes/client-node";
import { LaunchError, type AttemptRef } from "../executor.js";
import { apiStatus } from "./api-status.js";
import type { KubeExecutorState } from "./executor-state.js";
import { podBelongsTo, type KubeCluster } from "./kube/index.js";

/** Creates the attempt's Secret; one left by an earlier start of the same attempt is replaced. */
export async function createSecret(cluster: KubeCluster, namespace: string, secret: V1Secret, attempt: AttemptRef): Promise<void> {
  try {
    await cluster.core.createNamespacedSecret({ namespace, body: secret });
  } catch (error) {
    const api = apiStatus(error);
    if (api.code !== 409) throw error;
    const name = secret.metadata?.name ?? "";
    const existing = await cluster.core.readNamespacedSecret({ namespace, name });
    if (!podBelongsTo(existing.metadata?.annotations, attempt)) throw new LaunchError(`Secret ${namespace}/${name} already exists and belongs to something else; delete it or rename the task`, { retryable: false });
    // Left by an earlier start of this attempt; immutable, so it is replaced.
    await cluster.core.deleteNamespacedSecret({ namespace, name });
    await cluster.core.createNamespacedSecret({ namespace, body: secret });
  }
}

/** Makes the pod the owner of its Secret, so the cluster deletes the Secret with the pod. */
export async function ownSecret(state: KubeExecutorState, cluster: KubeCluster, namespace: string, name: string, pod: V1Pod): Promise<void> {
  const uid = pod.metadata?.uid;
  if (!uid) return;
  try {
    await cluster.core.patchNamespacedSecret(
      { namespace, name, body: { metadata: { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name, uid }] } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  } catch (error) {
    state.log.warn({ secret: name, namespace, cluster: cluster.name, err: error }, `could not make pod ${name} the owner of its Secret; the Secret stays when the pod is deleted: ${apiStatus(error).message}`);
  }
}

/**
 * After a restart: the Secret an attempt may have (its pod's name) is owned by its pod when the pod
 * is there, deleted when it is gone. A scheduler that stopped between the Secret's create and the
 * pod's (for a Spark driver, the whole of spark-submit's run) left it without an owner, so the
 * cluster would keep its values for good.
 */
export async function settleAdoptedSecret(state: KubeExecutorState, cluster: KubeCluster, namespace: string, name: string, attempt: AttemptRef, pod: V1Pod | undefined): Promise<void> {
  let secret: V1Secret;
  try {
    secret = await cluster.core.readNamespacedSecret({ namespace, name });
  } catch (error) {
    const api = apiStatus(error);
    if (api.code !== 404) state.log.warn({ secret: name, namespace, cluster: cluster.name, err: error }, `could not read the attempt's Secret ${name} to settle it after a restart: ${api.message}`);
    return;
  }
  if (!podBelongsTo(secret.metadata?.annotations, attempt)) return;
  if (pod === undefined) await deleteSecret(state, cluster, namespace, name);
  else if ((secret.metadata?.ownerReferences ?? []).length === 0) await ownSecret(state, cluster, namespace, name, pod);
}

export async function deleteSecret(state: KubeExecutorState, cluster: KubeCluster, namespace: string, name: string): Promise<void> {
  try {
    await cluster.core.deleteNamespacedSecret({ namespace, name });
  } catch (error) {
    const api = apiStatus(error);
    if (api.code !== 404) state.log.warn({ secret: name, namespace, cluster: cluster.name, err: error }, `could not delete Secret ${name}: ${api.message}`);
  }
}
