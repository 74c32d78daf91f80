/**
 * Launching a `spark:` task on Kubernetes in cluster mode: the venv's spark-submit runs here and
 * returns once the driver pod exists (waitAppCompletion=false); the driver pod carries the name,
 * labels and annotations an attempt's pod would, so the watch, log, end and kill of this executor
 * follow it unchanged. Executors carry the attempt label and are deleted with the driver on kill.
 * The task's environment is the one its pod would have: plain values as env conf, and values from
 * Capstan's secret store in the attempt's own Secret (created before spark-submit runs and owned
 * by the driver once it exists), referenced by key, so no secret is on spark-submit's command line.
 */
import type { V1EnvVar } from "@kubernetes/client-node";
import { spawn } from "node:child_process";
import { appendFileSync, openSync, closeSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { reservedK8sConf, submitEnvironment, findSparkInstall, noSparkMessage, resolveSparkMaster, sparkK8sSubmit, driverPodTemplate, type SparkK8sSubmitOptions } from "../../spark/index.js";
import { attemptKey, LaunchError, type AttemptLaunch, type LaunchInfo } from "../executor.js";
import { apiStatus } from "./api-status.js";
import { createSecret, deleteSecret, ownSecret } from "./attempt-secret.js";
import type { KubeExecutorState } from "./executor-state.js";
import { buildPod, namespaceProblem, parsePodOptions, PodBuildError, TASK_CONTAINER, type KubeCluster } from "./kube/index.js";
import { recordPodLocation } from "./pod-adoption.js";
import { deleteSparkPods, killAttempt } from "./pod-kill.js";
import { armStartTimers, evaluatePod, informerFor, onPodEvent } from "./pod-watch.js";
import { newTrackedPod, type TrackedPod } from "./tracked-pod.js";

const INFORMER_START_WAIT_MS = 10_000;

/** One variable of the driver's and executors' environment. */
type SparkPodEnv = SparkK8sSubmitOptions["podEnv"][number];

/** The Python interpreter whose venv holds pyspark (spark-submit runs here, not in the image). */
export interface SparkSubmitHost {
  python: string;
}

export async function launchSparkDriver(state: KubeExecutorState, launch: AttemptLaunch, host: SparkSubmitHost): Promise<LaunchInfo> {
  const { task } = launch;
  const spark = task.spark;
  if (spark === undefined) throw new LaunchError(`task ${task.id} is a spark task without its spark: field`, { retryable: false });
  const key = attemptKey(launch);
  if (state.pods.get(key)) throw new LaunchError(`attempt ${launch.tryNumber} of ${launch.taskId} is already running`, { retryable: false });
  const master = resolveSparkMaster(spark, launch.env);
  if (master !== "k8s") {
    throw new LaunchError(`task ${task.id}: master ${master} on the Kubernetes executor: only master k8s (cluster mode on the task's cluster) runs here; a k8s:// master from a connection is not built, and local and yarn masters run on the local executor (docs/spark.md)`, { retryable: false });
  }
  const reserved = reservedK8sConf(spark);
  if (reserved !== undefined) throw new LaunchError(`task ${task.id}: ${reserved}`, { retryable: false });
  const clusterName = state.clusters.resolveName(task.cluster);
  let cluster: KubeCluster;
  try {
    cluster = state.clusters.get(clusterName);
  } catch (error) {
    throw new LaunchError(`task ${task.id}: ${(error as Error).message}`, { retryable: false, cause: error });
  }
  if (cluster.settings.source.kind !== "kubeconfig") {
    throw new LaunchError(`task ${task.id}: a spark task with master k8s needs a cluster given by kubeconfig:; in_cluster: is not built for it (docs/spark.md)`, { retryable: false });
  }
  const namespace = task.namespace ?? cluster.namespace;
  const nsProblem = namespaceProblem(state.clusters, clusterName, namespace);
  if (nsProblem) throw new LaunchError(`task ${task.id}: namespace: ${nsProblem}`, { retryable: false });
  const parsed = parsePodOptions(task.kubernetes);
  if (!parsed.ok) throw new LaunchError(`task ${task.id}: ${parsed.issues.map((i) => `kubernetes.${i.path.join(".")}: ${i.message}`).join("; ")}`, { retryable: false });
  const image = task.image ?? cluster.settings.image;
  if (image === undefined) throw new LaunchError(`task ${task.id}: a spark task with master k8s needs an image (image: on the task or the cluster) that holds Spark`, { retryable: false });
  const install = findSparkInstall(host.python);
  if (install === null) throw new LaunchError(`task ${task.id}: ${noSparkMessage(host.python)}`, { retryable: false });

  // The metadata and settings an ordinary attempt pod would have: the watch and adoption read them
  // (the pod itself is spark-submit's to build, so its command here is only a placeholder).
  let built: ReturnType<typeof buildPod>;
  try {
    built = buildPod({
    attempt: { pipelineId: launch.pipelineId, runId: launch.runId, taskId: launch.taskId, tryNumber: launch.tryNumber, pipelineVersion: launch.pipelineVersion, token: launch.token },
    cluster: cluster.settings,
    namespace,
    image,
    argv: ["spark-driver"],
    files: {},
    env: launch.env,
    secretEnv: launch.secretEnv ?? [],
    resources: launch.resources,
    options: parsed.options,
    template: undefined,
    presetOutputs: {},
  });
  } catch (error) {
    if (error instanceof PodBuildError) throw new LaunchError(`task ${task.id}: ${error.field.join(".")}: ${error.message}`, { retryable: false, cause: error });
    throw error;
  }
  const podName = built.pod.metadata?.name ?? "";
  const podEnv = sparkPodEnv(task.id, built.pod.spec?.containers.find((c) => c.name === TASK_CONTAINER)?.env ?? []);
  const secret = built.secret;
  const templatePath = join(launch.attemptDir, "spark-driver-template.json");
  writeFileSync(templatePath, driverPodTemplate(TASK_CONTAINER));
  const submit = sparkK8sSubmit(spark, {
    sparkSubmit: install.sparkSubmit,
    sparkHome: install.sparkHome,
    python: host.python,
    apiServer: cluster.server,
    kubeconfig: resolve(cluster.settings.source.path),
    context: cluster.settings.source.context,
    namespace,
    serviceAccount: parsed.options.service_account ?? cluster.settings.serviceAccount,
    image,
    driverPod: podName,
    driverContainer: TASK_CONTAINER,
    driverTemplate: templatePath,
    labels: built.pod.metadata?.labels ?? {},
    annotations: built.pod.metadata?.annotations ?? {},
    appName: task.id,
    args: task.args,
    baseDir: launch.baseDir,
    podEnv,
    envPropertiesFile: join(launch.attemptDir, "spark-env.properties"),
  });
  // The task's environment, off spark-submit's command line: readable by the platform's user only.
  writeFileSync(join(launch.attemptDir, "spark-env.properties"), submit.properties, { mode: 0o600 });

  const tracked = newTrackedPod({
    key,
    ref: { runId: launch.runId, taskId: launch.taskId, tryNumber: launch.tryNumber, token: launch.token },
    cluster,
    namespace,
    podName,
    logPath: launch.logPath,
    settings: built.settings,
    preset: {},
    created: false,
    killedFor: undefined,
    replaceLog: false,
    checkAfterSync: false,
  });
  tracked.attemptLabel = podName;
  // spark-submit's output is the head of the log: the driver's log follows once it has exited.
  tracked.submitting = true;
  recordPodLocation(launch.attemptDir, { cluster: cluster.name, namespace, pod: podName });
  appendFileSync(launch.logPath, "");
  state.pods.add(tracked);
  const informer = informerFor(state, cluster, namespace);
  await Promise.race([informer.start(), new Promise((done) => setTimeout(done, INFORMER_START_WAIT_MS).unref())]);
  if (secret) {
    try {
      await createSecret(cluster, namespace, secret, tracked.ref);
    } catch (error) {
      state.pods.remove(tracked);
      if (error instanceof LaunchError) throw error;
      const api = apiStatus(error);
      throw new LaunchError(`task ${task.id}: creating Secret ${namespace}/${podName} (the task's secrets) on cluster ${cluster.name} failed${api.code !== undefined ? ` (HTTP ${api.code})` : ""}: ${api.message}`, { retryable: api.code === undefined || api.code >= 500 || api.code === 429, cause: error });
    }
  }
  const exit = await runSubmit(submit.argv, submit.env, launch.logPath, built.settings.startupTimeoutMs);
  tracked.submitting = false;
  if (exit !== 0) {
    state.pods.remove(tracked);
    // A driver created before spark-submit failed is not left running.
    await deleteSparkPods(state, cluster, namespace, podName, built.settings.terminationGraceSeconds);
    if (secret) await deleteSecret(state, cluster, namespace, podName);
    throw new LaunchError(`task ${task.id}: spark-submit to cluster ${cluster.name} (${cluster.server}) ${exit === null ? "did not finish in startup_timeout" : `exited with code ${exit}`}; its output is in the task's log`, { retryable: true });
  }
  tracked.created = true;
  if (secret) await ownSecretByDriver(state, tracked, informer.get(podName)?.metadata?.uid);
  // A restarted scheduler that rebuilds the log from the API server keeps spark-submit's output.
  tracked.logStart = statSync(launch.logPath).size;
  recordPodLocation(launch.attemptDir, { cluster: cluster.name, namespace, pod: podName, logStart: tracked.logStart });
  armStartTimers(state, tracked);
  if (tracked.killedFor !== undefined) state.defer(killAttempt(state, tracked.ref, tracked.killedFor));
  else if (tracked.lastPod) evaluatePod(state, tracked, tracked.lastPod);
  else {
    const cached = informer.get(podName);
    if (cached) onPodEvent(state, cluster.name, namespace, "update", cached);
  }
  return { externalId: `${cluster.name}/${namespace}/${podName}` };
}

/**
 * The driver's and executors' environment from the container env an attempt pod would have: values,
 * and keys of Secrets (the attempt's own, or the task's `kubernetes.secret_env`). What Spark's conf
 * cannot pass (a ConfigMap key, an optional Secret key) fails the launch naming the variable.
 */
function sparkPodEnv(taskId: string, env: readonly V1EnvVar[]): SparkPodEnv[] {
  return env.map((variable) => {
    const ref = variable.valueFrom?.secretKeyRef;
    if (variable.valueFrom === undefined) return { name: variable.name, value: variable.value ?? "" };
    if (ref !== undefined && ref.name !== undefined && ref.optional !== true && Object.keys(variable.valueFrom).length === 1) {
      return { name: variable.name, secretKeyRef: { name: ref.name, key: ref.key } };
    }
    throw new LaunchError(`task ${taskId}: environment variable ${variable.name}: a spark task with master k8s passes plain values and required Secret keys to the driver and executors; a ConfigMap key or an optional Secret key (kubernetes.secret_env) cannot be passed (docs/spark.md)`, { retryable: false });
  });
}

/** Makes the driver pod the owner of the attempt's Secret, so the cluster deletes it with the driver. */
async function ownSecretByDriver(state: KubeExecutorState, tracked: TrackedPod, cachedUid: string | undefined): Promise<void> {
  let uid = tracked.uid ?? cachedUid;
  if (uid === undefined) {
    try {
      uid = (await tracked.cluster.core.readNamespacedPod({ namespace: tracked.namespace, name: tracked.podName })).metadata?.uid;
    } catch (error) {
      state.log.warn({ pod: tracked.podName, namespace: tracked.namespace, cluster: tracked.cluster.name, err: error }, `could not read driver pod ${tracked.podName} to make it the owner of its Secret: ${apiStatus(error).message}`);
    }
  }
  if (uid !== undefined) await ownSecret(state, tracked.cluster, tracked.namespace, tracked.podName, { metadata: { uid } });
}

/** Runs spark-submit with its output in the task's log; its exit code, or null when it ran past the limit. */
async function runSubmit(argv: string[], env: Record<string, string>, logPath: string, limitMs: number): Promise<number | null> {
  const [command, ...args] = argv;
  const out = openSync(logPath, "a");
  try {
    const child = spawn(command ?? "spark-submit", args, { env: submitEnvironment(env), stdio: ["ignore", out, out] });
    return await new Promise<number | null>((done) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        done(null);
      }, limitMs);
      timer.unref();
      child.on("error", () => {
        clearTimeout(timer);
        done(127);
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        done(code ?? 1);
      });
    });
  } finally {
    closeSync(out);
  }
}
