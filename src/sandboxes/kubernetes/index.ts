/**
 * The Kubernetes sandbox backend: a pod, a home PVC, the team's RWX PVCs, a Service, a Secret and a
 * NetworkPolicy per sandbox on its profile's cluster, built on the pod executor's cluster registry.
 */
import { clusterConfigSource, KubeClusters, parseClusters, RequestCounter } from "../../executors/kubernetes/kube/index.js";
import type { SandboxSettings } from "../profiles.js";
import { KubernetesSandboxBackend, type KubernetesSandboxBackendOptions } from "./kubernetes-backend.js";

export { KubernetesSandboxBackend, type KubernetesSandboxBackendOptions } from "./kubernetes-backend.js";
export { buildSandboxManifests, sandboxObjectNames, SANDBOX_LABEL, SANDBOX_SELECTOR, SANDBOX_HOME, type CapstanPeer, type SandboxObjectNames } from "./sandbox-manifests.js";

/**
 * The backend for capstan.yaml's `clusters:` and the sandbox profiles; `clusters` may be the pod
 * executor's registry, so both share clients and request counts.
 */
export function createKubernetesSandboxBackend(
  config: { clusters: Record<string, unknown>; file: string | null },
  settings: SandboxSettings,
  options: Omit<KubernetesSandboxBackendOptions, "clusters" | "profiles"> & { clusters?: KubeClusters } = {},
): KubernetesSandboxBackend {
  const clusters = options.clusters ?? new KubeClusters(parseClusters(config.clusters, clusterConfigSource(config.file)), new RequestCounter());
  return new KubernetesSandboxBackend({ ...options, clusters, profiles: settings.profiles.values() });
}
