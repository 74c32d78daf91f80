/**
 * Builds the pod of a task attempt: the cluster's and the task's pod template as the base, then
 * the task's image, argv, environment (CAPSTAN_* included; outputs go to the termination message),
 * resources (`gpu` as the cluster's GPU resource with its tolerations and node selector), volumes,
 * scheduling and security options, deterministic name, labels and annotations. Values from the
 * secret store go into a Secret of the attempt's own instead of the pod's spec.
 */
import type { V1Container, V1EnvVar, V1Pod, V1Secret, V1Toleration, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { posix } from "node:path";
import type { TaskResources } from "../../../pipelines/index.js";
import type { ClusterSettings } from "./cluster-config.js";
import { PodBuildError } from "./errors.js";
import { imageReferenceProblem } from "./image-reference.js";
import { ANNOTATIONS, attemptLabels, podName, type AttemptIdentity } from "./names.js";
import { durationMs, type OnFinishPolicy, type PodOptions, type TolerationOption } from "./pod-options.js";
import { parseCpu, parseMemory } from "../../../units/index.js";

/** The name of the container that runs the task (a template's first container is renamed to it). */
export const TASK_CONTAINER = "task";
/** Where the task writes its outputs: the container's termination message (at most 4 KiB). */
export const TERMINATION_LOG = "/dev/termination-log";
/** The attempt's folder inside the pod when no artifacts volume is given. */
export const POD_ATTEMPT_DIR = "/capstan/attempt";
const ATTEMPT_VOLUME = "capstan-attempt";

/** How Capstan treats a pod beyond its spec; also recorded in its annotations for adoption. */
export interface PodSettings {
  onFinish: OnFinishPolicy;
  startupTimeoutMs: number;
  schedulingTimeoutMs: number;
  terminationGraceSeconds: number;
}

/** Everything a pod is built from. */
export interface PodBuildInput {
  attempt: AttemptIdentity & { pipelineVersion: string; token: string };
  cluster: ClusterSettings;
  namespace: string;
  /** The task's image (rendered), else the cluster's, else the template's. */
  image: string | undefined;
  argv: readonly string[];
  /** Files written into the attempt's folder in the pod before the command starts. */
  files: Record<string, string>;
  /** The attempt's environment (task env and CAPSTAN_* variables). */
  env: Record<string, string>;
  /**
   * Names in `env` whose values are secrets: they go into a Secret of the attempt's own (named as
   * the pod) that the container reads with secretKeyRef, so the pod's spec does not show them.
   */
  secretEnv?: readonly string[];
  resources: TaskResources;
  options: PodOptions;
  /** The merged base: cluster template, then task template. */
  template: V1Pod | undefined;
  /** Outputs known before the task runs (the output notebook's path in the pod). */
  presetOutputs: Record<string, string>;
}

/** The attempt's folder in the pod: under `artifacts_dir` when the task has one, else an emptyDir. */
export function podAttemptDir(options: PodOptions, attempt: Pick<AttemptIdentity, "taskId" | "tryNumber">): string {
  return options.artifacts_dir ? posix.join(options.artifacts_dir, "attempts", attempt.taskId, String(attempt.tryNumber)) : POD_ATTEMPT_DIR;
}

/** The effective settings of a task's pods on a cluster. */
export function podSettings(cluster: ClusterSettings, options: PodOptions): PodSettings {
  const startup = durationMs(options.startup_timeout);
  return {
    onFinish: options.on_finish ?? cluster.onFinish,
    startupTimeoutMs: startup ?? cluster.startupTimeoutMs,
    schedulingTimeoutMs: durationMs(options.scheduling_timeout) ?? (startup !== undefined ? Math.min(startup, cluster.schedulingTimeoutMs) : cluster.schedulingTimeoutMs),
    terminationGraceSeconds: Math.ceil((durationMs(options.termination_grace) ?? cluster.terminationGraceMs) / 1000),
  };
}

function tolerations(list: readonly TolerationOption[]): V1Toleration[] {
  return list.map((t) => ({
    ...(t.key !== undefined ? { key: t.key } : {}),
    ...(t.operator !== undefined ? { operator: t.operator } : {}),
    ...(t.value !== undefined ? { value: t.value } : {}),
    ...(t.effect !== undefined ? { effect: t.effect } : {}),
    ...(t.toleration_seconds !== undefined ? { tolerationSeconds: t.toleration_seconds } : {}),
  }));
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) seen.set(key(item), item);
  return [...seen.values()];
}

/** Kubernetes quantity strings: millicores for CPU, bytes for memory. */
function cpuQuantity(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

/** A shell prelude that writes the command's files from environment variables, then runs it. */
function withFiles(argv: readonly string[], files: Record<string, string>, env: V1EnvVar[]): string[] {
  const names = Object.keys(files);
  if (names.length === 0) return [...argv];
  const steps = ['mkdir -p "$CAPSTAN_ATTEMPT_DIR"'];
  names.forEach((name, i) => {
    env.push({ name: `CAPSTAN_FILE_${i}_NAME`, value: name }, { name: `CAPSTAN_FILE_${i}`, value: files[name] ?? "" });
    steps.push(`printf %s "$CAPSTAN_FILE_${i}" > "$CAPSTAN_ATTEMPT_DIR/$CAPSTAN_FILE_${i}_NAME"`);
  });
  return ["/bin/sh", "-c", `${steps.join(" && ")} && exec "$@"`, "capstan-task", ...argv];
}

/** What a Secret's key may be. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** Builds the attempt's pod (and its Secret, when it has secret values). Throws PodBuildError naming the task field at fault. */
export function buildPod(input: PodBuildInput): { pod: V1Pod; secret: V1Secret | undefined; settings: PodSettings } {
  const { attempt, cluster, options } = input;
  const identity = { pipelineId: attempt.pipelineId, runId: attempt.runId, taskId: attempt.taskId, tryNumber: attempt.tryNumber };
  const name = podName(identity);
  const base = structuredClone<V1Pod>(input.template ?? {});
  const baseSpec = base.spec ?? { containers: [] };
  const baseContainers = baseSpec.containers ?? [];
  const index = Math.max(0, baseContainers.findIndex((c) => c.name === TASK_CONTAINER));
  const baseContainer: Partial<V1Container> = baseContainers[index] ?? {};
  const others = baseContainers.filter((_, i) => i !== index);

  const image = input.image ?? cluster.image ?? baseContainer.image;
  if (image === undefined || image === "") {
    throw new PodBuildError(`a pod needs an image: set image: on the task, clusters.${cluster.name}.image in capstan.yaml, or an image in the pod template`, ["image"]);
  }
  const imageProblem = imageReferenceProblem(image);
  if (imageProblem) throw new PodBuildError(imageProblem, ["image"]);

  const settings = podSettings(cluster, options);
  const attemptDir = podAttemptDir(options, attempt);

  // Environment: the template's, then the attempt's; outputs travel in the termination message.
  const env: V1EnvVar[] = [...(baseContainer.env ?? [])];
  /** Sets a variable, replacing an earlier one of the same name. */
  const putEnv = (entry: V1EnvVar) => {
    const i = env.findIndex((e) => e.name === entry.name);
    if (i >= 0) env.splice(i, 1);
    env.push(entry);
  };
  const setEnv = (variable: string, value: string) => putEnv({ name: variable, value });
  const secretNames = new Set(input.secretEnv ?? []);
  const secretData: Record<string, string> = {};
  for (const [variable, value] of Object.entries(input.env)) {
    if (variable === "CAPSTAN_OUTPUT" || variable === "CAPSTAN_ARTIFACTS_DIR") continue;
    if (!secretNames.has(variable)) {
      setEnv(variable, value);
      continue;
    }
    if (!SECRET_KEY.test(variable)) throw new PodBuildError(`${variable} cannot be a Secret key: use letters, digits, '-', '_' and '.'`, ["secrets", variable]);
    putEnv({ name: variable, valueFrom: { secretKeyRef: { name, key: variable } } });
    secretData[variable] = Buffer.from(value, "utf8").toString("base64");
  }
  setEnv("CAPSTAN_OUTPUT", TERMINATION_LOG);
  if (options.artifacts_dir) setEnv("CAPSTAN_ARTIFACTS_DIR", options.artifacts_dir);
  setEnv("CAPSTAN_ATTEMPT_TOKEN", attempt.token);
  setEnv("CAPSTAN_ATTEMPT_DIR", attemptDir);
  setEnv("PYTHONUNBUFFERED", "1");
  for (const [variable, ref] of Object.entries(options.secret_env ?? {})) {
    putEnv({
      name: variable,
      valueFrom: "secret" in ref
        ? { secretKeyRef: { name: ref.secret, key: ref.key, ...(ref.optional !== undefined ? { optional: ref.optional } : {}) } }
        : { configMapKeyRef: { name: ref.config_map, key: ref.key, ...(ref.optional !== undefined ? { optional: ref.optional } : {}) } },
    });
  }
  const command = withFiles(input.argv, input.files, env);
  if (command.length === 0 || command[0] === "") throw new PodBuildError("the task has an empty command", ["command"]);

  const envFrom = [
    ...(baseContainer.envFrom ?? []),
    ...(options.env_from ?? []).map((e) => ({
      ...(e.prefix !== undefined ? { prefix: e.prefix } : {}),
      ...("secret" in e
        ? { secretRef: { name: e.secret, ...(e.optional !== undefined ? { optional: e.optional } : {}) } }
        : { configMapRef: { name: e.config_map, ...(e.optional !== undefined ? { optional: e.optional } : {}) } }),
    })),
  ];

  // Resources: requests from the task, memory limit = request unless given, GPUs as limits.
  const requests: Record<string, string> = { ...(baseContainer.resources?.requests ?? {}) };
  const limits: Record<string, string> = { ...(baseContainer.resources?.limits ?? {}) };
  if (input.resources.cpu > 0) requests.cpu = cpuQuantity(input.resources.cpu);
  if (input.resources.memory > 0) {
    requests.memory = String(input.resources.memory);
    limits.memory = String(input.resources.memory);
  }
  if (options.limits?.cpu !== undefined) limits.cpu = cpuQuantity(parseCpu(options.limits.cpu) ?? 0);
  if (options.limits?.memory !== undefined) limits.memory = String(parseMemory(options.limits.memory) ?? 0);
  const gpu = input.resources.gpu > 0;
  if (gpu) {
    requests[cluster.gpuResource] = String(input.resources.gpu);
    limits[cluster.gpuResource] = String(input.resources.gpu);
  }

  // Volumes: the template's, the attempt folder, then the task's (same name replaces).
  const volumes: V1Volume[] = [...(baseSpec.volumes ?? [])];
  const mounts: V1VolumeMount[] = [...(baseContainer.volumeMounts ?? [])];
  if (!options.artifacts_dir) {
    volumes.push({ name: ATTEMPT_VOLUME, emptyDir: {} });
    mounts.push({ name: ATTEMPT_VOLUME, mountPath: POD_ATTEMPT_DIR });
  }
  for (const v of options.volumes ?? []) {
    const volume: V1Volume = { name: v.name };
    if ("pvc" in v) volume.persistentVolumeClaim = { claimName: v.pvc, ...(v.read_only ? { readOnly: true } : {}) };
    else if ("config_map" in v) volume.configMap = { name: v.config_map, ...(v.optional !== undefined ? { optional: v.optional } : {}) };
    else if ("secret" in v) volume.secret = { secretName: v.secret, ...(v.optional !== undefined ? { optional: v.optional } : {}) };
    else volume.emptyDir = { ...(v.empty_dir.medium !== undefined ? { medium: v.empty_dir.medium } : {}), ...(v.empty_dir.size_limit !== undefined ? { sizeLimit: String(parseMemory(v.empty_dir.size_limit) ?? 0) } : {}) };
    volumes.push(volume);
    mounts.push({ name: v.name, mountPath: v.mount, ...(v.read_only ? { readOnly: true } : {}), ...(v.sub_path !== undefined ? { subPath: v.sub_path } : {}) });
  }
  const volumeNames = new Set<string>();
  for (const v of options.volumes ?? []) {
    if (volumeNames.has(v.name)) throw new PodBuildError(`volume ${v.name} is listed twice`, ["kubernetes", "volumes"]);
    volumeNames.add(v.name);
  }

  const container: V1Container = {
    ...baseContainer,
    name: TASK_CONTAINER,
    image,
    command,
    env,
    terminationMessagePath: TERMINATION_LOG,
    terminationMessagePolicy: "File",
  };
  delete container.args;
  if (envFrom.length > 0) container.envFrom = envFrom;
  else delete container.envFrom;
  if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) {
    container.resources = { ...(Object.keys(requests).length > 0 ? { requests } : {}), ...(Object.keys(limits).length > 0 ? { limits } : {}) };
  }
  if (mounts.length > 0) container.volumeMounts = uniqueBy(mounts, (m) => m.mountPath);
  if (options.working_dir) container.workingDir = options.working_dir;
  if (options.image_pull_policy) container.imagePullPolicy = options.image_pull_policy;
  if (options.security_context) container.securityContext = options.security_context;

  const nodeSelector = { ...(baseSpec.nodeSelector ?? {}), ...cluster.nodeSelector, ...(gpu ? cluster.gpuNodeSelector : {}), ...(options.node_selector ?? {}) };
  const allTolerations = [...(baseSpec.tolerations ?? []), ...tolerations(cluster.tolerations), ...(gpu ? tolerations(cluster.gpuTolerations) : []), ...tolerations(options.tolerations ?? [])];
  const pullSecrets = uniqueBy(
    [...(baseSpec.imagePullSecrets ?? []), ...cluster.imagePullSecrets.map((name) => ({ name })), ...(options.image_pull_secrets ?? []).map((name) => ({ name }))],
    (s) => s.name ?? "",
  );
  const serviceAccount = options.service_account ?? cluster.serviceAccount ?? baseSpec.serviceAccountName;

  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: input.namespace,
      labels: { ...(base.metadata?.labels ?? {}), ...(options.labels ?? {}), ...attemptLabels(identity) },
      annotations: {
        ...(base.metadata?.annotations ?? {}),
        ...(options.annotations ?? {}),
        [ANNOTATIONS.pipelineId]: attempt.pipelineId,
        [ANNOTATIONS.pipelineVersion]: attempt.pipelineVersion,
        [ANNOTATIONS.runId]: attempt.runId,
        [ANNOTATIONS.taskId]: attempt.taskId,
        [ANNOTATIONS.try]: String(attempt.tryNumber),
        [ANNOTATIONS.token]: attempt.token,
        [ANNOTATIONS.onFinish]: settings.onFinish,
        [ANNOTATIONS.startupTimeout]: String(settings.startupTimeoutMs),
        [ANNOTATIONS.schedulingTimeout]: String(settings.schedulingTimeoutMs),
        [ANNOTATIONS.terminationGrace]: String(settings.terminationGraceSeconds),
        ...(Object.keys(input.presetOutputs).length > 0 ? { [ANNOTATIONS.presetOutputs]: JSON.stringify(input.presetOutputs) } : {}),
      },
    },
    spec: {
      ...baseSpec,
      restartPolicy: "Never",
      containers: [container, ...others],
      terminationGracePeriodSeconds: settings.terminationGraceSeconds,
      ...(volumes.length > 0 ? { volumes: uniqueBy(volumes, (v) => v.name) } : {}),
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
      ...(allTolerations.length > 0 ? { tolerations: allTolerations } : {}),
      ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets } : {}),
      ...(serviceAccount !== undefined ? { serviceAccountName: serviceAccount } : {}),
    },
  };
  const spec = pod.spec as NonNullable<V1Pod["spec"]>;
  if (options.affinity) spec.affinity = options.affinity;
  if (options.pod_security_context) spec.securityContext = options.pod_security_context;
  if (options.priority_class) spec.priorityClassName = options.priority_class;
  if (options.scheduler_name) spec.schedulerName = options.scheduler_name;
  if (options.host_network !== undefined) spec.hostNetwork = options.host_network;
  if (options.dns_policy) spec.dnsPolicy = options.dns_policy;
  const deadline = durationMs(options.active_deadline);
  if (deadline !== undefined) spec.activeDeadlineSeconds = Math.max(1, Math.ceil(deadline / 1000));
  const secret: V1Secret | undefined =
    Object.keys(secretData).length === 0
      ? undefined
      : {
          apiVersion: "v1",
          kind: "Secret",
          type: "Opaque",
          immutable: true,
          metadata: {
            name,
            namespace: input.namespace,
            labels: attemptLabels(identity),
            annotations: { [ANNOTATIONS.runId]: attempt.runId, [ANNOTATIONS.taskId]: attempt.taskId, [ANNOTATIONS.try]: String(attempt.tryNumber) },
          },
          data: secretData,
        };
  return { pod, secret, settings };
}

/** Merges a task's pod template over a cluster's: metadata maps merged, spec fields replaced. */
export function mergeTemplates(cluster: V1Pod | undefined, task: V1Pod | undefined): V1Pod | undefined {
  if (!cluster) return task;
  if (!task) return cluster;
  return {
    ...cluster,
    ...task,
    metadata: {
      ...(cluster.metadata ?? {}),
      ...(task.metadata ?? {}),
      labels: { ...(cluster.metadata?.labels ?? {}), ...(task.metadata?.labels ?? {}) },
      annotations: { ...(cluster.metadata?.annotations ?? {}), ...(task.metadata?.annotations ?? {}) },
    },
    spec: { ...(cluster.spec ?? { containers: [] }), ...(task.spec ?? { containers: [] }) },
  };
}
