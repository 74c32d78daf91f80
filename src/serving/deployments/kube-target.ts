/**
 * The Kubernetes side of deployments, with the kube client the executor uses: applies a
 * deployment's ConfigMap, Deployment and Service (created when missing; the Deployment's spec
 * replaced when its replicas or pod template differ, which is how Kubernetes rolls a new version),
 * reads back the rollout (observed generation, updated and available replicas) and the pods, and
 * deletes the objects when the deployment is deleted.
 */
import { AppsV1Api, type V1Deployment } from "@kubernetes/client-node";
import { apiStatus } from "../../executors/kubernetes/api-status.js";
import type { KubeClusters } from "../../executors/kubernetes/kube/index.js";
import type { ReplicaView } from "../../operations/index.js";
import type { StoredDeployment } from "../../store/index.js";
import type { KubeDeploymentTarget } from "./deployment-controller.js";
import { DEPLOYMENT_LABEL, deploymentObjects, kubeObjectName, VERSION_LABEL } from "./kube-manifests.js";

const ignoreMissing = (error: unknown): void => {
  if (apiStatus(error).code !== 404) throw error;
};

export class KubeDeployments implements KubeDeploymentTarget {
  constructor(private readonly clusters: KubeClusters) {}

  #clients(row: StoredDeployment) {
    const cluster = this.clusters.get(row.cluster ?? "");
    return { cluster, core: cluster.core, apps: cluster.config.makeApiClient(AppsV1Api), namespace: row.namespace ?? "default" };
  }

  async apply(row: StoredDeployment, version: number): Promise<{ state: "rolling" | "ready" | "failed"; message: string | null; replicas: ReplicaView[] }> {
    const { cluster, core, apps, namespace } = this.#clients(row);
    const objects = deploymentObjects(row, version, cluster.settings);
    const name = kubeObjectName(row.name);
    await core.readNamespacedConfigMap({ name, namespace }).catch(async (error: unknown) => {
      ignoreMissing(error);
      await core.createNamespacedConfigMap({ namespace, body: objects.configMap });
    });
    await core.readNamespacedService({ name, namespace }).catch(async (error: unknown) => {
      ignoreMissing(error);
      await core.createNamespacedService({ namespace, body: objects.service });
    });
    let live: V1Deployment | undefined;
    try {
      live = await apps.readNamespacedDeployment({ name, namespace });
    } catch (error) {
      ignoreMissing(error);
    }
    if (!live) {
      live = await apps.createNamespacedDeployment({ namespace, body: objects.deployment });
    } else if (differs(live, objects.deployment)) {
      const body: V1Deployment = { ...objects.deployment, metadata: { ...objects.deployment.metadata, resourceVersion: live.metadata?.resourceVersion } };
      live = await apps.replaceNamespacedDeployment({ name, namespace, body });
    }
    const pods = await core.listNamespacedPod({ namespace, labelSelector: `${DEPLOYMENT_LABEL}=${row.name}` });
    const replicas: ReplicaView[] = pods.items.map((pod) => {
      const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return {
        replica: pod.metadata?.name ?? "",
        version: Number(pod.metadata?.labels?.[VERSION_LABEL] ?? 0),
        state: pod.metadata?.deletionTimestamp ? "stopping" : ready ? "ready" : waiting?.reason && /Err|BackOff/.test(waiting.reason) ? "failed" : "starting",
        url: null,
        pid: null,
        message: waiting?.reason ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}` : null,
      };
    });
    const status = live.status ?? {};
    const wanted = Number(row.replicas);
    const rolledOut = (status.observedGeneration ?? 0) >= (live.metadata?.generation ?? 1) && (status.updatedReplicas ?? 0) === wanted && (status.availableReplicas ?? 0) === wanted && (status.replicas ?? 0) === wanted;
    if (rolledOut || (wanted === 0 && (status.replicas ?? 0) === 0)) return { state: "ready", message: null, replicas };
    const failing = replicas.find((r) => r.state === "failed");
    return {
      state: failing ? "failed" : "rolling",
      message: failing?.message ?? `rolling to version ${version} on ${cluster.name}/${namespace}: ${status.updatedReplicas ?? 0} of ${wanted} updated, ${status.availableReplicas ?? 0} available`,
      replicas,
    };
  }

  async remove(row: StoredDeployment): Promise<void> {
    const { core, apps, namespace } = this.#clients(row);
    const name = kubeObjectName(row.name);
    await apps.deleteNamespacedDeployment({ name, namespace }).catch(ignoreMissing);
    await core.deleteNamespacedService({ name, namespace }).catch(ignoreMissing);
    await core.deleteNamespacedConfigMap({ name, namespace }).catch(ignoreMissing);
  }
}

/** Whether the live Deployment's replicas or pod template differ from the wanted one's. */
function differs(live: V1Deployment, wanted: V1Deployment): boolean {
  if (live.spec?.replicas !== wanted.spec?.replicas) return true;
  const liveTemplate = live.spec?.template;
  const wantedTemplate = wanted.spec?.template;
  if (JSON.stringify(liveTemplate?.metadata?.labels ?? {}) !== JSON.stringify(wantedTemplate?.metadata?.labels ?? {})) return true;
  const liveContainer = liveTemplate?.spec?.containers[0];
  const wantedContainer = wantedTemplate?.spec?.containers[0];
  return liveContainer?.image !== wantedContainer?.image || canonical(liveContainer?.args) !== canonical(wantedContainer?.args) || canonical(liveContainer?.resources ?? {}) !== canonical(wantedContainer?.resources ?? {});
}

/** JSON with object keys sorted, so a value read back from the API server compares equal to the one sent. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
