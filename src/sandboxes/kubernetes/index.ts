/**
 * The Kubernetes sandbox backend: a pod, a home PVC, the team's RWX PVCs, a Service, a Secret and a
 * NetworkPolicy per sandbox on its profile's cluster, built on the pod executor's cluster registry.
 */
import { clusterConfigSource, KubeClusters, parseClusters, RequestCounter } from "../../executors/kubernetes/kube/index.js";
import type { SandboxesConfigFile } from "../../config/index.js";
import type { SandboxSettings } from "../profiles.js";
import { KubernetesSandboxBackend, type KubernetesSandboxBackendOptions } from "./kubernetes-backend.js";
import { DEFAULT_CAPSTAN_PEER } from "./sandbox-manifests.js";

export { KubernetesSandboxBackend, type KubernetesSandboxBackendOptions } from "./kubernetes-backend.js";
export { buildSandboxManifests, DEFAULT_CAPSTAN_PEER, sandboxObjectNames, SANDBOX_LABEL, SANDBOX_SELECTOR, SANDBOX_HOME, type CapstanPeer, type SandboxObjectNames } from "./sandbox-manifests.js";

/**
 * The backend for capstan.yaml's `clusters:` and `sandboxes.kubernetes`; `clusters` may be the pod
 * executor's registry, so both share clients and request counts. Options given here win.
 */
export function createKubernetesSandboxBackend(
  config: { clusters: Record<string, unknown>; file: string | null; sandboxes?: SandboxesConfigFile | undefined },
  settings: SandboxSettings,
  options: Omit<KubernetesSandboxBackendOptions, "clusters" | "profiles"> & { clusters?: KubeClusters } = {},
): KubernetesSandboxBackend {
  const clusters = options.clusters ?? new KubeClusters(parseClusters(config.clusters, clusterConfigSource(config.file)), new RequestCounter());
  const kube = config.sandboxes?.kubernetes;
  const fromFile: Partial<KubernetesSandboxBackendOptions> = {
    ...(kube?.home_storage_class !== undefined ? { homeStorageClass: kube.home_storage_class } : {}),
    ...(kube?.home_size !== undefined ? { homeSize: kube.home_size } : {}),
    ...(kube?.capstan_pod_labels !== undefined || kube?.capstan_namespace_labels !== undefined
      ? { capstan: { podLabels: kube.capstan_pod_labels ?? DEFAULT_CAPSTAN_PEER.podLabels, ...(kube.capstan_namespace_labels ? { namespaceLabels: kube.capstan_namespace_labels } : {}) } }
      : {}),
  };
  return new KubernetesSandboxBackend({ ...fromFile, ...options, clusters, profiles: settings.profiles.values() });
}
