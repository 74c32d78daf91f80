/** The Kubernetes executor: attempts as pods on the clusters named in capstan.yaml. */
import type { Logger } from "pino";
import type { Clock } from "../../clock/index.js";
import type { CapstanConfig } from "../../config/index.js";
import { clusterConfigSource, KubeClusters, parseClusters, RequestCounter } from "./kube/index.js";
import { KubernetesExecutor, type KubernetesExecutorOptions } from "./kubernetes-executor.js";

export { KubernetesExecutor, type KubernetesExecutorOptions } from "./kubernetes-executor.js";
export { describePod, endOfPod, nodeLostReason, podProgress, type PodProgress } from "./pod-outcome.js";
export { RequestCounter, type RequestCounts } from "./kube/index.js";
export { apiStatus, type ApiStatus } from "./api-status.js";

/**
 * Builds the Kubernetes executor from capstan.yaml's `clusters:`. Throws ClusterConfigError (with
 * file:line:col) when a cluster entry is not valid; a cluster whose kubeconfig cannot be read is
 * kept, and tasks that use it fail with that reason.
 */
export function createKubernetesExecutor(
  config: Pick<CapstanConfig, "clusters" | "file">,
  options: { logger: Logger; clock?: Clock; counter?: RequestCounter } & Omit<KubernetesExecutorOptions, "clusters" | "logger" | "clock">,
): KubernetesExecutor {
  const { counter, ...rest } = options;
  const settings = parseClusters(config.clusters, clusterConfigSource(config.file));
  const clusters = new KubeClusters(settings, counter ?? new RequestCounter());
  for (const name of clusters.names()) {
    const problem = clusters.problem(name);
    if (problem) options.logger.error(problem);
  }
  return new KubernetesExecutor({ ...rest, clusters });
}
