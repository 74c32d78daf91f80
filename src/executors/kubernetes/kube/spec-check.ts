/**
 * The check of pipeline files against the configured clusters, run when a file loads: a task that
 * runs as a pod must name a configured, usable cluster and an allowed namespace, have a valid image,
 * and valid `kubernetes:` options. Each problem names the task and field; the YAML loader adds the
 * line and column. What only the cluster knows (does the namespace exist?) fails the attempt later.
 */
import { isAbsolute } from "node:path";
import type { PipelineSpec, SpecCheck, TaskSpec, ValidationIssue } from "../../../pipelines/index.js";
import type { KubeClusters } from "./cluster-registry.js";
import { PodBuildError } from "./errors.js";
import { imageReferenceProblem } from "./image-reference.js";
import { parsePodOptions } from "./pod-options.js";
import { loadPodTemplate } from "./pod-template.js";

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const templated = (text: string) => text.includes("{{");

/** Whether `namespace` may be used on the cluster; returns the reason when not. */
export function namespaceProblem(clusters: KubeClusters, clusterName: string, namespace: string): string | undefined {
  if (namespace.length > 63 || !NAMESPACE.test(namespace)) {
    return `${JSON.stringify(namespace)} is not a namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`;
  }
  const settings = clusters.settings(clusterName);
  if (!settings || settings.namespaces === null) return undefined;
  let defaultNamespace: string | undefined;
  try {
    defaultNamespace = clusters.get(clusterName).namespace;
  } catch {
    defaultNamespace = settings.namespace;
  }
  if (namespace === defaultNamespace || settings.namespaces.includes(namespace)) return undefined;
  const allowed = [...new Set([...(defaultNamespace ? [defaultNamespace] : []), ...settings.namespaces])];
  return `namespace ${JSON.stringify(namespace)} is not allowed on cluster ${clusterName}; allowed: ${allowed.join(", ")} (clusters.${clusterName}.namespaces in capstan.yaml)`;
}

function checkTask(task: TaskSpec, clusters: KubeClusters, issues: ValidationIssue[]): void {
  const at = (...field: (string | number)[]) => ["tasks", task.id, ...field];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message: `task ${task.id}: ${message}` });
  const clusterName = clusters.resolveName(task.cluster);
  const settings = clusters.settings(clusterName);
  if (!settings) {
    const known = clusters.names();
    add(at("cluster"), task.cluster === undefined
      ? "runs on Kubernetes but no cluster is configured; add clusters: to capstan.yaml"
      : `unknown cluster ${JSON.stringify(task.cluster)}; clusters in capstan.yaml: ${known.join(", ") || "(none)"}`);
    return;
  }
  const problem = clusters.problem(clusterName);
  if (problem) add(at("cluster"), problem);

  if (task.namespace !== undefined && !templated(task.namespace)) {
    const reason = namespaceProblem(clusters, clusterName, task.namespace);
    if (reason) add(at("namespace"), reason);
  }

  const parsed = parsePodOptions(task.kubernetes);
  if (!parsed.ok) {
    for (const issue of parsed.issues) add(at("kubernetes", ...issue.path), `kubernetes.${issue.path.join(".")}: ${issue.message}`);
  }
  const options = parsed.ok ? parsed.options : undefined;

  if (task.image !== undefined && !templated(task.image)) {
    const reason = imageReferenceProblem(task.image);
    if (reason) add(at("image"), reason);
  } else if (task.image === undefined && settings.image === undefined && settings.podTemplate === undefined && options?.pod_template === undefined) {
    add(at("image"), `a pod needs an image; set image: on the task (or in defaults:), or clusters.${clusterName}.image in capstan.yaml`);
  }

  const template = options?.pod_template;
  if (template !== undefined && isAbsolute(template)) {
    try {
      loadPodTemplate(template, ["kubernetes", "pod_template"]);
    } catch (error) {
      if (error instanceof PodBuildError) add(at("kubernetes", "pod_template"), error.message);
      else throw error;
    }
  }
}

/**
 * The check of every task that runs on the Kubernetes executor (its own `executor:`, else the
 * platform's default executor).
 */
export function kubernetesSpecCheck(clusters: KubeClusters, defaultExecutor: string, executorName = "kubernetes"): SpecCheck {
  return (spec: PipelineSpec) => {
    const issues: ValidationIssue[] = [];
    for (const task of Object.values(spec.tasks)) {
      // A kafka_sensor runs in the platform's own process, never as a pod.
      if (task.kind === "kafka_sensor" || (task.executor ?? defaultExecutor) !== executorName) continue;
      checkTask(task, clusters, issues);
    }
    return issues;
  };
}
