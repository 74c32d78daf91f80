/**
 * The pod (and Secret) of one attempt, built from the launch: the cluster and namespace it goes to,
 * the task's `kubernetes:` options, the cluster's and the task's pod templates, and the task's argv
 * with its files. Anything that can never launch fails as a LaunchError that names the field.
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { isAbsolute, resolve } from "node:path";
import { LaunchError, type AttemptLaunch } from "../executor.js";
import { taskCommand } from "../task-command.js";
import { buildPod, loadPodTemplate, mergeTemplates, namespaceProblem, parsePodOptions, podAttemptDir, PodBuildError, type KubeCluster, type KubeClusters, type PodSettings } from "./kube/index.js";

export interface AttemptPod {
  cluster: KubeCluster;
  namespace: string;
  pod: V1Pod;
  /** The attempt's secret values, when it has any. */
  secret: V1Secret | undefined;
  settings: PodSettings;
  /** Outputs known before the pod runs (the output notebook). */
  preset: Record<string, string>;
}

export function buildAttemptPod(clusters: KubeClusters, launch: AttemptLaunch): AttemptPod {
  const { task } = launch;
  const clusterName = clusters.resolveName(task.cluster);
  let cluster: KubeCluster;
  try {
    cluster = clusters.get(clusterName);
  } catch (error) {
    throw new LaunchError(`task ${task.id}: ${(error as Error).message}`, { retryable: false, cause: error });
  }
  const namespace = task.namespace ?? cluster.namespace;
  const nsProblem = namespaceProblem(clusters, clusterName, namespace);
  if (nsProblem) throw new LaunchError(`task ${task.id}: namespace: ${nsProblem}`, { retryable: false });
  const parsed = parsePodOptions(task.kubernetes);
  if (!parsed.ok) {
    throw new LaunchError(`task ${task.id}: ${parsed.issues.map((i) => `kubernetes.${i.path.join(".")}: ${i.message}`).join("; ")}`, { retryable: false });
  }
  const options = parsed.options;
  try {
    const clusterTemplate = cluster.settings.podTemplate ? loadPodTemplate(cluster.settings.podTemplate, ["clusters", clusterName, "pod_template"]) : undefined;
    const taskTemplate = options.pod_template ? loadPodTemplate(resolve(launch.baseDir, options.pod_template), ["kubernetes", "pod_template"]) : undefined;
    const attemptDir = podAttemptDir(options, launch);
    const workingDir = options.working_dir ?? (task.cwd && isAbsolute(task.cwd) && task.kind !== "notebook" ? task.cwd : undefined);
    const command = taskCommand(task, {
      python: cluster.settings.python,
      capstan: cluster.settings.capstan,
      baseDir: workingDir ?? ".",
      attemptDir,
      pathStyle: "posix",
    });
    const built = buildPod({
      attempt: { pipelineId: launch.pipelineId, runId: launch.runId, taskId: launch.taskId, tryNumber: launch.tryNumber, pipelineVersion: launch.pipelineVersion, token: launch.token },
      cluster: cluster.settings,
      namespace,
      image: task.image,
      argv: command.argv,
      files: command.files,
      env: launch.env,
      secretEnv: launch.secretEnv ?? [],
      resources: launch.resources,
      options: workingDir && !options.working_dir ? { ...options, working_dir: workingDir } : options,
      template: mergeTemplates(clusterTemplate, taskTemplate),
      presetOutputs: command.outputs,
    });
    return { cluster, namespace, pod: built.pod, secret: built.secret, settings: built.settings, preset: command.outputs };
  } catch (error) {
    if (error instanceof PodBuildError) throw new LaunchError(`task ${task.id}: ${error.field.join(".")}: ${error.message}`, { retryable: false, cause: error });
    throw error;
  }
}
