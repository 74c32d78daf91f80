/**
 * The Kubernetes executor: each attempt is one pod, with a name that depends only on (run, task,
 * try), so a restart or a second scheduler never creates a second pod for the same attempt (the
 * API server answers AlreadyExists and the pod is adopted). One informer per cluster and namespace
 * reports every pod's changes; nothing polls a pod. Startup and scheduling timeouts, failure
 * reasons, logs copied while the pod runs and completed after it ended, and the on-finish policy
 * applied on every end path are handled here.
 */
import { PatchStrategy, setHeaderOptions, type V1Pod, type V1Secret } from "@kubernetes/client-node";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Logger } from "pino";
import { systemClock, type Clock, type ClockTimer } from "../../clock/index.js";
import {
  ANNOTATIONS,
  buildPod,
  kubernetesSpecCheck,
  loadPodTemplate,
  mergeTemplates,
  namespaceProblem,
  ON_FINISH_POLICIES,
  parsePodOptions,
  podAttemptDir,
  podBelongsTo,
  PodBuildError,
  PodInformer,
  PodLogStream,
  TASK_CONTAINER,
  type KubeCluster,
  type KubeClusters,
  type OnFinishPolicy,
  type PodEventType,
  type PodSettings,
} from "./kube/index.js";
import { formatDuration, type SpecCheck } from "../../pipelines/index.js";
import {
  attemptKey,
  LaunchError,
  type AdoptResult,
  type AttemptEnd,
  type AttemptEndListener,
  type AttemptLaunch,
  type AttemptRef,
  type Executor,
  type LaunchInfo,
  type StoredAttempt,
} from "../executor.js";
import { failedEnd, lostEnd, withKillReason } from "../attempt-end.js";
import { taskCommand } from "../task-command.js";
import { describePod, endOfPod, nodeLostReason, podProgress } from "./pod-outcome.js";

export interface KubernetesExecutorOptions {
  clusters: KubeClusters;
  logger: Logger;
  /** Timers of startup and scheduling timeouts. */
  clock?: Clock;
  /** How long adoption waits for a namespace's pods to be listed before trusting the cache. */
  adoptSyncTimeoutMs?: number;
  /** How long the final log read after a pod ended may take. */
  finalLogTimeoutMs?: number;
  /** First delay before restarting a failed informer (doubles up to informerMaxBackoffMs). */
  informerBackoffMs?: number;
  informerMaxBackoffMs?: number;
  /** Delay before retrying a delete that failed (API server unreachable). */
  deleteRetryMs?: number;
  /**
   * How long a container runs before its log is followed; a pod that ends sooner is read once
   * after its end, which saves a request per short task.
   */
  logFollowDelayMs?: number;
}

/** Where an attempt's pod lives; also its external id `cluster/namespace/pod`. */
interface PodLocation {
  cluster: string;
  namespace: string;
  pod: string;
}

interface Tracked {
  key: string;
  ref: AttemptRef;
  cluster: KubeCluster;
  namespace: string;
  podName: string;
  logPath: string;
  settings: PodSettings;
  preset: Record<string, string>;
  /** The pod exists (create returned, or the watch saw it). */
  created: boolean;
  createdAt: number | undefined;
  uid: string | undefined;
  lastPod: V1Pod | undefined;
  killedFor: string | undefined;
  /** A delete was sent (kill or policy). */
  deleting: boolean;
  ending: boolean;
  logs: PodLogStream | undefined;
  /** The log file is rebuilt from the API server (after adoption). */
  replaceLog: boolean;
  timers: ClockTimer[];
  /** Adopted before its namespace was listed: check it exists once the informer syncs. */
  checkAfterSync: boolean;
  /** Pending start of the log follow. */
  followTimer?: NodeJS.Timeout | undefined;
}

const EXTERNAL_ID = /^([^/]+)\/([^/]+)\/([^/]+)$/;
const POD_FILE = "pod.json";
const INFORMER_START_WAIT_MS = 10_000;

function locationKey(cluster: string, namespace: string, pod: string): string {
  return `${cluster}\u0000${namespace}\u0000${pod}`;
}

/** The message of an API server's Status answer, or the error's own. */
function apiMessage(error: unknown): { code: number | undefined; message: string; reason: string | undefined; kind: string | undefined } {
  const e = error as { code?: unknown; body?: unknown; message?: string };
  const code = typeof e.code === "number" ? e.code : undefined;
  let body: { message?: string; reason?: string; details?: { kind?: string } } | undefined;
  if (typeof e.body === "string") {
    try {
      body = JSON.parse(e.body) as typeof body;
    } catch {
      body = undefined;
    }
  } else if (e.body && typeof e.body === "object") {
    body = e.body;
  }
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  return { code, message: body?.message ?? cause ?? e.message ?? String(error), reason: body?.reason, kind: body?.details?.kind };
}

function containerStarted(pod: V1Pod | undefined): boolean {
  const status = pod?.status?.containerStatuses?.find((s) => s.name === TASK_CONTAINER) ?? pod?.status?.containerStatuses?.[0];
  return status?.state?.running !== undefined || status?.state?.terminated !== undefined;
}

function settingsFromPod(pod: V1Pod, cluster: KubeCluster): PodSettings {
  const a = pod.metadata?.annotations ?? {};
  const int = (text: string | undefined, fallback: number) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : fallback);
  const policy = a[ANNOTATIONS.onFinish];
  return {
    onFinish: (ON_FINISH_POLICIES as readonly string[]).includes(policy ?? "") ? (policy as OnFinishPolicy) : cluster.settings.onFinish,
    startupTimeoutMs: int(a[ANNOTATIONS.startupTimeout], cluster.settings.startupTimeoutMs),
    schedulingTimeoutMs: int(a[ANNOTATIONS.schedulingTimeout], cluster.settings.schedulingTimeoutMs),
    terminationGraceSeconds: int(a[ANNOTATIONS.terminationGrace], Math.ceil(cluster.settings.terminationGraceMs / 1000)),
  };
}

function presetFromPod(pod: V1Pod): Record<string, string> {
  const text = pod.metadata?.annotations?.[ANNOTATIONS.presetOutputs];
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Runs task attempts as pods on the configured clusters. */
export class KubernetesExecutor implements Executor {
  readonly name = "kubernetes";
  readonly clusters: KubeClusters;
  readonly #options: KubernetesExecutorOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #tracked = new Map<string, Tracked>();
  readonly #byPod = new Map<string, Tracked>();
  readonly #informers = new Map<string, PodInformer>();
  readonly #active = new Map<string, number>();
  readonly #pending = new Set<Promise<unknown>>();
  #listener: AttemptEndListener = () => undefined;
  #closed = false;

  constructor(options: KubernetesExecutorOptions) {
    this.#options = options;
    this.clusters = options.clusters;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger.child({ executor: "kubernetes" });
  }

  /** The check of pipeline files against the configured clusters. */
  specCheck(defaultExecutor: string): SpecCheck {
    return kubernetesSpecCheck(this.clusters, defaultExecutor, this.name);
  }

  /** Attempts running now on a cluster. */
  running(cluster: string): number {
    return this.#active.get(cluster) ?? 0;
  }

  onAttemptEnd(listener: AttemptEndListener): void {
    this.#listener = listener;
  }

  canLaunch(launch: Pick<AttemptLaunch, "resources" | "task">): boolean {
    const name = this.clusters.resolveName(launch.task.cluster);
    const problem = this.clusters.problem(name);
    if (problem) throw new LaunchError(`task ${launch.task.id}: ${problem}`, { retryable: false });
    const settings = this.clusters.settings(name);
    return this.running(name) < (settings?.maxPods ?? Infinity);
  }

  async launch(launch: AttemptLaunch): Promise<LaunchInfo> {
    const key = attemptKey(launch);
    if (this.#tracked.has(key)) throw new LaunchError(`attempt ${launch.tryNumber} of ${launch.taskId} is already running`, { retryable: false });
    const { task } = launch;
    const clusterName = this.clusters.resolveName(task.cluster);
    let cluster: KubeCluster;
    try {
      cluster = this.clusters.get(clusterName);
    } catch (error) {
      throw new LaunchError(`task ${task.id}: ${(error as Error).message}`, { retryable: false, cause: error });
    }
    const namespace = task.namespace ?? cluster.namespace;
    const nsProblem = namespaceProblem(this.clusters, clusterName, namespace);
    if (nsProblem) throw new LaunchError(`task ${task.id}: namespace: ${nsProblem}`, { retryable: false });
    const parsed = parsePodOptions(task.kubernetes);
    if (!parsed.ok) {
      throw new LaunchError(`task ${task.id}: ${parsed.issues.map((i) => `kubernetes.${i.path.join(".")}: ${i.message}`).join("; ")}`, { retryable: false });
    }
    const options = parsed.options;
    let built: ReturnType<typeof buildPod>;
    let preset: Record<string, string> = {};
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
      built = buildPod({
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
      preset = command.outputs;
    } catch (error) {
      if (error instanceof PodBuildError) throw new LaunchError(`task ${task.id}: ${error.field.join(".")}: ${error.message}`, { retryable: false, cause: error });
      throw error;
    }
    const { pod, secret, settings } = built;
    const podName = pod.metadata?.name ?? "";
    const tracked: Tracked = {
      key,
      ref: { runId: launch.runId, taskId: launch.taskId, tryNumber: launch.tryNumber, token: launch.token },
      cluster,
      namespace,
      podName,
      logPath: launch.logPath,
      settings,
      preset,
      created: false,
      createdAt: undefined,
      uid: undefined,
      lastPod: undefined,
      killedFor: undefined,
      deleting: false,
      ending: false,
      logs: undefined,
      replaceLog: false,
      timers: [],
      checkAfterSync: false,
    };
    // Recorded before the create, so a restarted scheduler knows where to look for the pod.
    writeFileSync(join(launch.attemptDir, POD_FILE), JSON.stringify({ cluster: clusterName, namespace, pod: podName } satisfies PodLocation));
    appendFileSync(launch.logPath, "");
    this.#track(tracked);
    const informer = this.#informerFor(cluster, namespace);
    // The first launch in a namespace waits for its watch (bounded: an API server that does not
    // answer makes the create below fail with a clear reason instead of hanging here).
    await Promise.race([informer.start(), new Promise((resolve) => setTimeout(resolve, INFORMER_START_WAIT_MS).unref())]);
    if (secret) {
      try {
        await this.#createSecret(cluster, namespace, secret, tracked.ref);
      } catch (error) {
        this.#untrack(tracked);
        if (error instanceof LaunchError) throw error;
        throw this.#createError(apiMessage(error), error, cluster, namespace, podName, "Secret");
      }
    }
    try {
      const created = await cluster.core.createNamespacedPod({ namespace, body: pod });
      if (secret) await this.#ownSecret(cluster, namespace, podName, created);
      tracked.created = true;
      tracked.uid ??= created.metadata?.uid;
      tracked.createdAt ??= created.metadata?.creationTimestamp ? new Date(created.metadata.creationTimestamp).getTime() : this.#clock.now();
    } catch (error) {
      const api = apiMessage(error);
      if (api.code === 409 && api.reason === "AlreadyExists") {
        const adopted = await this.#adoptExisting(tracked, informer);
        if (adopted && secret && tracked.uid) await this.#ownSecret(cluster, namespace, podName, { metadata: { uid: tracked.uid } });
        if (!adopted) {
          this.#untrack(tracked);
          throw new LaunchError(`pod ${namespace}/${podName} already exists on cluster ${clusterName} and belongs to another attempt; delete it or rename the task`, { retryable: false });
        }
      } else {
        this.#untrack(tracked);
        if (secret) await this.#deleteSecret(cluster, namespace, podName);
        throw this.#createError(api, error, cluster, namespace, podName);
      }
    }
    this.#armTimers(tracked);
    if (tracked.killedFor !== undefined) this.#defer(this.kill(tracked.ref, tracked.killedFor));
    else if (tracked.lastPod) this.#evaluate(tracked, tracked.lastPod);
    else {
      const cached = informer.get(podName);
      if (cached) this.#onPodEvent(cluster.name, namespace, "update", cached);
    }
    return { externalId: `${clusterName}/${namespace}/${podName}` };
  }

  /** Creates the attempt's Secret; one left by an earlier start of the same attempt is replaced. */
  async #createSecret(cluster: KubeCluster, namespace: string, secret: V1Secret, attempt: AttemptRef): Promise<void> {
    try {
      await cluster.core.createNamespacedSecret({ namespace, body: secret });
    } catch (error) {
      const api = apiMessage(error);
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
  async #ownSecret(cluster: KubeCluster, namespace: string, name: string, pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    try {
      await cluster.core.patchNamespacedSecret(
        { namespace, name, body: { metadata: { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name, uid }] } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    } catch (error) {
      this.#log.warn({ secret: name, namespace, cluster: cluster.name, err: error }, `could not make pod ${name} the owner of its Secret; the Secret stays when the pod is deleted: ${apiMessage(error).message}`);
    }
  }

  async #deleteSecret(cluster: KubeCluster, namespace: string, name: string): Promise<void> {
    try {
      await cluster.core.deleteNamespacedSecret({ namespace, name });
    } catch (error) {
      const api = apiMessage(error);
      if (api.code !== 404) this.#log.warn({ secret: name, namespace, cluster: cluster.name, err: error }, `could not delete Secret ${name}: ${api.message}`);
    }
  }

  /** The pod exists already: it is this attempt's (adopt it) or someone else's (refuse). */
  async #adoptExisting(tracked: Tracked, informer: PodInformer): Promise<boolean> {
    let existing = informer.get(tracked.podName);
    if (!existing) {
      try {
        existing = await tracked.cluster.core.readNamespacedPod({ namespace: tracked.namespace, name: tracked.podName });
      } catch {
        existing = undefined;
      }
    }
    if (!existing || !podBelongsTo(existing.metadata?.annotations, tracked.ref)) return false;
    this.#log.info({ pod: tracked.podName, namespace: tracked.namespace, cluster: tracked.cluster.name }, "pod already existed; adopting it");
    tracked.created = true;
    tracked.uid = existing.metadata?.uid;
    tracked.lastPod = existing;
    tracked.settings = settingsFromPod(existing, tracked.cluster);
    tracked.preset = presetFromPod(existing);
    tracked.replaceLog = true;
    tracked.createdAt = existing.metadata?.creationTimestamp ? new Date(existing.metadata.creationTimestamp).getTime() : this.#clock.now();
    return true;
  }

  #createError(api: ReturnType<typeof apiMessage>, error: unknown, cluster: KubeCluster, namespace: string, podName: string, what: "pod" | "Secret" = "pod"): LaunchError {
    const where = `cluster ${cluster.name}`;
    if (api.code === 404 && api.kind === "namespaces") {
      return new LaunchError(`namespace ${namespace} does not exist on ${where}; create it or choose another with namespace:`, { retryable: false, cause: error });
    }
    if (api.code === 422 || api.code === 400) {
      return new LaunchError(`the API server of ${where} rejected ${what} ${podName}: ${api.message}`, { retryable: false, cause: error });
    }
    if (api.code === 403) {
      return new LaunchError(`the API server of ${where} refused to create ${what} ${podName} in ${namespace}: ${api.message}`, { retryable: /exceeded quota/i.test(api.message), cause: error });
    }
    if (api.code === 401) {
      return new LaunchError(`the API server of ${where} did not accept Capstan's credentials (${api.message}); check the kubeconfig of clusters.${cluster.name}`, { retryable: true, cause: error });
    }
    if (api.code === undefined) {
      return new LaunchError(`cannot reach the API server of ${where} at ${cluster.server}: ${api.message}`, { retryable: true, cause: error });
    }
    return new LaunchError(`creating ${what} ${podName} on ${where} failed (HTTP ${api.code}): ${api.message}`, { retryable: true, cause: error });
  }

  async kill(ref: AttemptRef, reason: string): Promise<void> {
    const tracked = this.#tracked.get(attemptKey(ref));
    if (!tracked || tracked.ending) return;
    tracked.killedFor = reason;
    if (!tracked.created) return; // launch deletes it once the create returns
    const result = await this.#deletePod(tracked, tracked.settings.terminationGraceSeconds);
    if (result === "gone") await this.#gone(tracked);
    else if (result === "failed") this.#retryDelete(tracked);
  }

  #retryDelete(tracked: Tracked): void {
    const timer = setTimeout(() => {
      if (tracked.ending || this.#closed || tracked.killedFor === undefined) return;
      this.#defer(this.kill(tracked.ref, tracked.killedFor));
    }, this.#options.deleteRetryMs ?? 5000);
    timer.unref();
  }

  async adopt(attempts: readonly StoredAttempt[]): Promise<Map<string, AdoptResult>> {
    const results = new Map<string, AdoptResult>();
    await Promise.all(attempts.map(async (attempt) => results.set(attemptKey(attempt), await this.#adoptOne(attempt))));
    return results;
  }

  async #adoptOne(attempt: StoredAttempt): Promise<AdoptResult> {
    const killed = attempt.killReason;
    const location = this.#location(attempt);
    if (!location) {
      return { status: "ended", end: lostEnd(killed ? `killed (${killed}) before its pod was created` : "the scheduler stopped before the attempt's pod was created") };
    }
    let cluster: KubeCluster;
    try {
      cluster = this.clusters.get(location.cluster);
    } catch (error) {
      return { status: "ended", end: lostEnd(`cannot look for pod ${location.namespace}/${location.pod}: ${(error as Error).message}`) };
    }
    const informer = this.#informerFor(cluster, location.namespace);
    void informer.start();
    const synced = await informer.whenSynced(this.#options.adoptSyncTimeoutMs ?? 60_000);
    const tracked: Tracked = {
      key: attemptKey(attempt),
      ref: { runId: attempt.runId, taskId: attempt.taskId, tryNumber: attempt.tryNumber, token: attempt.token },
      cluster,
      namespace: location.namespace,
      podName: location.pod,
      logPath: attempt.logPath ?? join(attempt.attemptDir ?? ".", "log"),
      settings: { onFinish: cluster.settings.onFinish, startupTimeoutMs: cluster.settings.startupTimeoutMs, schedulingTimeoutMs: cluster.settings.schedulingTimeoutMs, terminationGraceSeconds: Math.ceil(cluster.settings.terminationGraceMs / 1000) },
      preset: {},
      created: true,
      createdAt: undefined,
      uid: undefined,
      lastPod: undefined,
      killedFor: killed ?? undefined,
      deleting: false,
      ending: false,
      logs: undefined,
      replaceLog: true,
      timers: [],
      checkAfterSync: !synced,
    };
    if (!synced) {
      // The API server does not answer yet: keep the attempt and check once the namespace is listed.
      this.#log.warn({ cluster: cluster.name, namespace: location.namespace, pod: location.pod }, "could not list pods to adopt an attempt; will check when the API server answers");
      this.#track(tracked);
      return { status: "running" };
    }
    const pod = informer.get(location.pod);
    if (!pod || !podBelongsTo(pod.metadata?.annotations, attempt)) {
      return { status: "ended", end: killed ? failedEnd(killed, true) : lostEnd(`pod ${location.namespace}/${location.pod} on cluster ${location.cluster} no longer exists (it was deleted while the scheduler was down)`) };
    }
    tracked.uid = pod.metadata?.uid;
    tracked.lastPod = pod;
    tracked.settings = settingsFromPod(pod, cluster);
    tracked.preset = presetFromPod(pod);
    tracked.createdAt = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : this.#clock.now();
    this.#track(tracked);
    const progress = podProgress(pod, tracked.preset);
    if (progress.kind === "ended") return { status: "ended", end: await this.#finish(tracked, progress.end, { report: false }) };
    if (progress.kind === "lost") return { status: "ended", end: await this.#finish(tracked, lostEnd(progress.reason), { report: false, stopPod: true }) };
    if (progress.kind === "failed-start") return { status: "ended", end: await this.#finish(tracked, failedEnd(progress.reason, progress.retryable), { report: false, stopPod: true }) };
    if (pod.metadata?.deletionTimestamp) tracked.deleting = true;
    this.#armTimers(tracked);
    if (progress.kind === "running") this.#startLogs(tracked);
    return { status: "running" };
  }

  /** Where a stored attempt's pod is: from its external id, else the file written before the create. */
  #location(attempt: StoredAttempt): PodLocation | undefined {
    const match = EXTERNAL_ID.exec(attempt.externalId);
    if (match) return { cluster: match[1] ?? "", namespace: match[2] ?? "", pod: match[3] ?? "" };
    if (!attempt.attemptDir) return undefined;
    try {
      const recorded = JSON.parse(readFileSync(join(attempt.attemptDir, POD_FILE), "utf8")) as Partial<PodLocation>;
      if (recorded.cluster && recorded.namespace && recorded.pod) return { cluster: recorded.cluster, namespace: recorded.namespace, pod: recorded.pod };
    } catch {
      // no pod was recorded: the create was never sent
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    for (const tracked of this.#tracked.values()) {
      for (const timer of tracked.timers) timer.clear();
      if (tracked.followTimer) clearTimeout(tracked.followTimer);
      await tracked.logs?.stop();
    }
    this.#tracked.clear();
    this.#byPod.clear();
    this.#active.clear();
    await Promise.all([...this.#informers.values()].map((informer) => informer.stop()));
    this.#informers.clear();
    this.clusters.close();
  }

  // ---------------------------------------------------------------- tracking

  #track(tracked: Tracked): void {
    this.#tracked.set(tracked.key, tracked);
    this.#byPod.set(locationKey(tracked.cluster.name, tracked.namespace, tracked.podName), tracked);
    this.#active.set(tracked.cluster.name, this.running(tracked.cluster.name) + 1);
  }

  #untrack(tracked: Tracked): void {
    if (this.#tracked.get(tracked.key) !== tracked) return;
    this.#tracked.delete(tracked.key);
    this.#byPod.delete(locationKey(tracked.cluster.name, tracked.namespace, tracked.podName));
    this.#active.set(tracked.cluster.name, Math.max(0, this.running(tracked.cluster.name) - 1));
    for (const timer of tracked.timers) timer.clear();
    tracked.timers = [];
  }

  #defer(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.#log.error({ err: error }, "Kubernetes executor task failed"));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  #informerFor(cluster: KubeCluster, namespace: string): PodInformer {
    const key = `${cluster.name}\u0000${namespace}`;
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new PodInformer({
        cluster,
        namespace,
        counter: cluster.counter,
        onEvent: (type, pod) => this.#onPodEvent(cluster.name, namespace, type, pod),
        onSynced: () => this.#afterSync(cluster.name, namespace),
        onError: (error, retryInMs) => this.#log.warn({ cluster: cluster.name, namespace, err: error, retryInMs }, "pod watch stopped; restarting it"),
        ...(this.#options.informerBackoffMs !== undefined ? { initialBackoffMs: this.#options.informerBackoffMs } : {}),
        ...(this.#options.informerMaxBackoffMs !== undefined ? { maxBackoffMs: this.#options.informerMaxBackoffMs } : {}),
      });
      this.#informers.set(key, informer);
    }
    return informer;
  }

  /** Attempts adopted before their namespace could be listed: those whose pod is missing are lost. */
  #afterSync(cluster: string, namespace: string): void {
    const informer = this.#informers.get(`${cluster}\u0000${namespace}`);
    for (const tracked of [...this.#tracked.values()]) {
      if (!tracked.checkAfterSync || tracked.cluster.name !== cluster || tracked.namespace !== namespace || tracked.ending) continue;
      tracked.checkAfterSync = false;
      const pod = informer?.get(tracked.podName);
      if (!pod || !podBelongsTo(pod.metadata?.annotations, tracked.ref)) {
        this.#defer(this.#gone(tracked));
        continue;
      }
      tracked.settings = settingsFromPod(pod, tracked.cluster);
      tracked.preset = presetFromPod(pod);
      tracked.createdAt = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : this.#clock.now();
      this.#armTimers(tracked);
      this.#onPodEvent(cluster, namespace, "update", pod);
    }
  }

  #onPodEvent(cluster: string, namespace: string, type: PodEventType, pod: V1Pod): void {
    const tracked = this.#byPod.get(locationKey(cluster, namespace, pod.metadata?.name ?? ""));
    if (!tracked || tracked.ending || tracked.checkAfterSync) return;
    if (tracked.uid !== undefined && pod.metadata?.uid !== undefined && pod.metadata.uid !== tracked.uid) return;
    tracked.lastPod = pod;
    if (type === "delete") {
      if (tracked.created) this.#defer(this.#gone(tracked));
      return;
    }
    if (!podBelongsTo(pod.metadata?.annotations, tracked.ref)) return;
    tracked.created = true;
    tracked.uid ??= pod.metadata?.uid;
    this.#evaluate(tracked, pod);
  }

  #evaluate(tracked: Tracked, pod: V1Pod): void {
    const progress = podProgress(pod, tracked.preset);
    switch (progress.kind) {
      case "ended":
        // A pod someone else deleted ends killed: the attempt was lost, not failed by the task.
        if (pod.metadata?.deletionTimestamp && !tracked.deleting && tracked.killedFor === undefined && progress.end.outcome !== "success") {
          this.#defer(this.#finish(tracked, lostEnd(`pod ${tracked.namespace}/${tracked.podName} was deleted outside Capstan while it ran (${progress.end.reason ?? ""})`), { report: true }));
          return;
        }
        this.#defer(this.#finish(tracked, progress.end, { report: true }));
        return;
      case "lost":
        this.#defer(this.#finish(tracked, lostEnd(progress.reason), { report: true, stopPod: true }));
        return;
      case "failed-start":
        this.#defer(this.#finish(tracked, failedEnd(progress.reason, progress.retryable), { report: true, stopPod: true }));
        return;
      case "running":
        for (const timer of tracked.timers) timer.clear();
        tracked.timers = [];
        this.#startLogs(tracked);
        return;
      case "pending":
        return;
    }
  }

  #armTimers(tracked: Tracked): void {
    for (const timer of tracked.timers) timer.clear();
    const created = tracked.createdAt ?? this.#clock.now();
    const { schedulingTimeoutMs, startupTimeoutMs } = tracked.settings;
    tracked.timers = [
      this.#clock.setTimer(created + schedulingTimeoutMs, () => this.#startTimeout(tracked, "scheduling")),
      this.#clock.setTimer(created + startupTimeoutMs, () => this.#startTimeout(tracked, "startup")),
    ];
  }

  /** A pod still waiting when its scheduling or startup time is up fails the attempt. */
  #startTimeout(tracked: Tracked, which: "scheduling" | "startup"): void {
    if (tracked.ending || this.#closed || tracked.killedFor !== undefined) return;
    const pod = tracked.lastPod;
    const { schedulingTimeoutMs, startupTimeoutMs } = tracked.settings;
    if (!pod) {
      if (which === "startup") this.#defer(this.#finish(tracked, failedEnd(`the pod was not seen within ${formatDuration(startupTimeoutMs)} (startup_timeout): the watch of ${tracked.cluster.name}/${tracked.namespace} reported nothing`, true), { report: true, stopPod: true }));
      return;
    }
    const progress = podProgress(pod, tracked.preset);
    if (progress.kind !== "pending") return;
    if (which === "scheduling" && progress.scheduled) return;
    let reason: string;
    if (progress.unschedulable !== undefined) {
      reason = `Unschedulable: ${progress.unschedulable} (not scheduled within ${formatDuration(which === "scheduling" ? schedulingTimeoutMs : startupTimeoutMs)}, ${which}_timeout)`;
    } else if (which === "scheduling") {
      reason = `the pod was not scheduled within ${formatDuration(schedulingTimeoutMs)} (scheduling_timeout)`;
    } else {
      reason = `the pod did not start within ${formatDuration(startupTimeoutMs)} (startup_timeout)${progress.waiting ? `: ${progress.waiting}` : ""}`;
    }
    this.#defer(this.#finish(tracked, failedEnd(reason, true), { report: true, stopPod: true }));
  }

  #startLogs(tracked: Tracked): void {
    if (tracked.logs || tracked.followTimer || this.#closed) return;
    const delay = this.#options.logFollowDelayMs ?? 1000;
    const follow = () => {
      tracked.followTimer = undefined;
      if (tracked.ending || tracked.logs || this.#closed) return;
      tracked.logs = this.#logStream(tracked);
      tracked.logs.follow();
    };
    if (delay <= 0) {
      follow();
      return;
    }
    tracked.followTimer = setTimeout(follow, delay);
    tracked.followTimer.unref();
  }

  #logStream(tracked: Tracked): PodLogStream {
    return new PodLogStream({
      config: tracked.cluster.config,
      namespace: tracked.namespace,
      pod: tracked.podName,
      container: TASK_CONTAINER,
      path: tracked.logPath,
      counter: tracked.cluster.counter,
      replace: tracked.replaceLog,
    });
  }

  /** The pod disappeared: killed (as asked), or deleted from outside / with its node (lost). */
  async #gone(tracked: Tracked): Promise<void> {
    if (tracked.ending) return;
    const last = tracked.lastPod;
    let end: AttemptEnd;
    if (tracked.killedFor !== undefined) end = failedEnd(tracked.killedFor, true);
    else if (last && (last.status?.phase === "Succeeded" || last.status?.phase === "Failed")) end = endOfPod(last, tracked.preset);
    else {
      const node = last ? nodeLostReason(last) : undefined;
      end = lostEnd(node ?? `pod ${tracked.namespace}/${tracked.podName} was deleted outside Capstan${last?.spec?.nodeName ? ` (it ran on node ${last.spec.nodeName})` : ""}`);
    }
    await this.#finish(tracked, end, { report: true, podGone: true });
  }

  /**
   * Ends an attempt: completes the log, notes why it failed, applies the on-finish policy (a pod
   * Capstan gives up on is always deleted, so nothing keeps running untracked), then reports.
   */
  async #finish(tracked: Tracked, end: AttemptEnd, how: { report: boolean; stopPod?: boolean; podGone?: boolean }): Promise<AttemptEnd> {
    if (tracked.ending) return end;
    tracked.ending = true;
    for (const timer of tracked.timers) timer.clear();
    tracked.timers = [];
    if (tracked.followTimer) clearTimeout(tracked.followTimer);
    const result = withKillReason(end, tracked.killedFor);
    const podExists = how.podGone !== true;
    const started = containerStarted(tracked.lastPod);
    if (!tracked.logs && podExists && started) tracked.logs = this.#logStream(tracked);
    await tracked.logs?.finish({ readRest: podExists && started, timeoutMs: this.#options.finalLogTimeoutMs ?? 30_000 });
    if (result.outcome !== "success") await this.#noteFailure(tracked, result, podExists);
    const policy = tracked.settings.onFinish;
    const remove = podExists && !tracked.deleting && (how.stopPod === true || policy === "delete" || (policy === "delete_succeeded" && result.outcome === "success"));
    if (remove) await this.#deletePod(tracked, how.stopPod === true ? tracked.settings.terminationGraceSeconds : undefined);
    this.#untrack(tracked);
    this.#log.debug({ pod: tracked.podName, outcome: result.outcome, reason: result.reason }, "attempt ended");
    if (how.report) this.#listener(tracked.ref, result);
    return result;
  }

  /** Writes why the attempt failed, the pod's state and its events after the container's log. */
  async #noteFailure(tracked: Tracked, end: AttemptEnd, podExists: boolean): Promise<void> {
    const lines = [`capstan: attempt ${tracked.ref.tryNumber} of ${tracked.ref.taskId} ended (${end.outcome}): ${end.reason ?? ""}`];
    if (tracked.lastPod) lines.push(...describePod(tracked.lastPod).map((l) => `capstan: ${l}`));
    if (podExists && tracked.killedFor === undefined) {
      try {
        const events = await tracked.cluster.core.listNamespacedEvent({ namespace: tracked.namespace, fieldSelector: `involvedObject.name=${tracked.podName}` });
        for (const e of events.items.slice(-20)) lines.push(`capstan: event ${e.type ?? ""} ${e.reason ?? ""}: ${(e.message ?? "").replace(/\s+/g, " ")}`);
      } catch {
        // events are a help, not a requirement
      }
    }
    const writer = tracked.logs ?? this.#logStream({ ...tracked, replaceLog: false });
    await writer.note(lines.join("\n"));
  }

  /** Deletes the pod (with a grace period when stopping it); "gone" when it no longer exists. */
  async #deletePod(tracked: Tracked, graceSeconds: number | undefined): Promise<"deleted" | "gone" | "failed"> {
    tracked.deleting = true;
    try {
      await tracked.cluster.core.deleteNamespacedPod({
        name: tracked.podName,
        namespace: tracked.namespace,
        ...(graceSeconds !== undefined ? { gracePeriodSeconds: graceSeconds } : {}),
        ...(tracked.uid !== undefined ? { body: { preconditions: { uid: tracked.uid } } } : {}),
      });
      return "deleted";
    } catch (error) {
      const api = apiMessage(error);
      if (api.code === 404 || api.code === 409) return "gone";
      tracked.deleting = false;
      this.#log.warn({ pod: tracked.podName, namespace: tracked.namespace, cluster: tracked.cluster.name, err: error }, `could not delete pod: ${api.message}`);
      return "failed";
    }
  }
}

