/**
 * Kubernetes for Capstan: named clusters and their clients, pod names and labels, pod manifests
 * built from tasks, the per-namespace pod informer, pod log streams, request counting, and the
 * check of pipeline files against the configured clusters.
 */
export { parseClusters, clusterConfigSource, defaultClusterName, CLUSTER_DEFAULTS, type ClusterSettings, type ClusterConfigSource } from "./cluster-config.js";
export { KubeClusters, type KubeCluster } from "./cluster-registry.js";
export { ClusterConfigError, ClusterUnavailableError, PodBuildError } from "./errors.js";
export { imageReferenceProblem } from "./image-reference.js";
export { ANNOTATIONS, LABELS, MANAGED_BY, MANAGED_SELECTOR, attemptLabels, labelValue, podBelongsTo, podName, type AttemptIdentity } from "./names.js";
export { buildPod, mergeTemplates, podAttemptDir, podSettings, POD_ATTEMPT_DIR, TASK_CONTAINER, TERMINATION_LOG, type PodBuildInput, type PodSettings } from "./pod-manifest.js";
export { parsePodOptions, ON_FINISH_POLICIES, type OnFinishPolicy, type PodOptions } from "./pod-options.js";
export { loadPodTemplate } from "./pod-template.js";
export { PodInformer, type PodEventType, type PodInformerOptions } from "./pod-informer.js";
export { PodLogStream, type PodLogStreamOptions } from "./pod-log-stream.js";
export { PodLogError, requestPodLog, type PodLogRequest, type PodLogRequestOptions } from "./pod-log-request.js";
export { RequestCounter, type RequestCounts, type RequestKind } from "./request-counter.js";
export { kubernetesSpecCheck, namespaceProblem } from "./spec-check.js";
