/**
 * The `kubernetes` sandbox backend: a sandbox is a pod on its profile's cluster and namespace, with
 * a home PVC kept across stops, the team's RWX PVCs mounted, a Service, a token Secret and a
 * NetworkPolicy that admits only Capstan. It uses the pod executor's cluster registry and
 * restartable informers (selecting the sandbox backend's own label), waits for the kubelet to call
 * the pod Ready, turns pod states into failure reasons (image pull, unschedulable, quota, crash),
 * and adopts running pods after a restart by their deterministic names.
 */
import { NetworkingV1Api, type CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { apiStatus, podProgress } from "../../executors/kubernetes/index.js";
import { loadPodTemplate, PodInformer, type KubeCluster, type KubeClusters } from "../../executors/kubernetes/kube/index.js";
import type { SandboxBackend, SandboxExit, SandboxLaunch, SandboxRuntime } from "../backend.js";
import { SandboxStartError } from "../errors.js";
import type { SandboxProfile } from "../profiles.js";
import { buildSandboxManifests, DEFAULT_CAPSTAN_PEER, sandboxObjectNames, sandboxSshEndpoint, sandboxUpstream, SANDBOX_SELECTOR, type CapstanPeer, type SandboxObjectNames } from "./sandbox-manifests.js";

export interface KubernetesSandboxBackendOptions {
  clusters: KubeClusters;
  /** The profiles of this backend: where (cluster, namespace) sandboxes may live, for stops and deletes without a runtime. */
  profiles: Iterable<SandboxProfile>;
  /** Storage class of home PVCs; absent: the cluster's default class. */
  homeStorageClass?: string;
  /** Size of a home PVC (default 10Gi). */
  homeSize?: string;
  /** The PVC of a team volume (default `capstan-<team>-<volume>`). */
  sharedClaimName?: (team: string, volume: string) => string;
  /** Who the NetworkPolicy admits (default: pods labelled app.kubernetes.io/name=capstan in the sandbox's namespace). */
  capstan?: CapstanPeer;
  /** How long a start may take until the pod is Ready (default: the cluster's startup_timeout). */
  startTimeoutMs?: number;
  /** How long a pod may stay unschedulable before the start fails (default: the cluster's scheduling_timeout). */
  unschedulableGraceMs?: number;
  /** How long adoption waits for the informer's first list (default 30 s). */
  adoptSyncTimeoutMs?: number;
  /** How long a stop waits for the pod to be gone (default: the termination grace plus 30 s). */
  stopWaitMs?: number;
}

/** The runtime facts of a Kubernetes sandbox, as stored. */
interface KubeRuntime extends SandboxRuntime {
  cluster: string;
  namespace: string;
  pod: string;
}

interface Place {
  cluster: KubeCluster;
  namespace: string;
}

interface Watched {
  place: Place;
  stopping: boolean;
}

const TICK_MS = 250;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Team names may hold characters a PVC name cannot. */
function defaultSharedClaim(team: string, volume: string): string {
  const part = team.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return `capstan-${part}-${volume}`.slice(0, 253);
}

export class KubernetesSandboxBackend implements SandboxBackend {
  readonly kind = "kubernetes" as const;
  readonly #options: KubernetesSandboxBackendOptions;
  readonly #profiles: SandboxProfile[];
  readonly #informers = new Map<string, PodInformer>();
  readonly #watched = new Map<string, Watched>();
  readonly #listeners: ((exit: SandboxExit) => void)[] = [];
  #closed = false;

  constructor(options: KubernetesSandboxBackendOptions) {
    this.#options = options;
    this.#profiles = [...options.profiles].filter((p) => p.backend === "kubernetes");
  }

  onExit(listener: (exit: SandboxExit) => void): void {
    this.#listeners.push(listener);
  }

  /** The cluster and namespace of a profile's sandboxes. */
  placeOf(profile: SandboxProfile): Place {
    const clusters = this.#options.clusters;
    const cluster = clusters.get(clusters.resolveName(profile.cluster ?? undefined));
    const namespace = profile.namespace ?? cluster.namespace;
    const allowed = cluster.settings.namespaces;
    if (allowed !== null && !allowed.includes(namespace)) {
      throw new SandboxStartError("crash", `profile ${profile.name} names namespace ${namespace}, which clusters.${cluster.name}.namespaces does not allow (${allowed.join(", ")})`);
    }
    return { cluster, namespace };
  }

  async start(launch: SandboxLaunch, signal?: AbortSignal): Promise<SandboxRuntime> {
    const place = this.placeOf(launch.profile);
    const { cluster, namespace } = place;
    const core = cluster.core;
    const template = cluster.settings.podTemplate ? loadPodTemplate(cluster.settings.podTemplate, ["clusters", cluster.name, "pod_template"]) : undefined;
    const sharedClaims = launch.profile.volumes.map((v) => (this.#options.sharedClaimName ?? defaultSharedClaim)(launch.team, v.name));
    const m = buildSandboxManifests({
      launch,
      cluster: cluster.settings,
      namespace,
      sharedClaims,
      homeStorageClass: this.#options.homeStorageClass,
      homeSize: this.#options.homeSize ?? "10Gi",
      capstan: this.#options.capstan ?? DEFAULT_CAPSTAN_PEER,
      template,
    });
    if (!m.pod.spec?.containers[0]?.image) throw new SandboxStartError("crash", `profile ${launch.profile.name} has no image and clusters.${cluster.name}.image is not set`);
    const informer = await this.#informer(place);
    const runtime: KubeRuntime = { upstream: sandboxUpstream(m.names, namespace), ssh: sandboxSshEndpoint(m.names, namespace), cluster: cluster.name, namespace, pod: m.names.pod };
    const where = `cluster ${cluster.name}, namespace ${namespace}`;

    for (const [i, claim] of sharedClaims.entries()) {
      try {
        await core.readNamespacedPersistentVolumeClaim({ namespace, name: claim });
      } catch (error) {
        if (apiStatus(error).code !== 404) throw error;
        const volume = launch.profile.volumes[i]?.name ?? claim;
        throw new SandboxStartError("unschedulable", `team volume ${volume} has no PersistentVolumeClaim ${claim} in ${where}; an admin creates it (ReadWriteMany) before sandboxes mount it`);
      }
    }
    const net = cluster.config.makeApiClient(NetworkingV1Api);
    try {
      await createOrKeep(() => core.createNamespacedPersistentVolumeClaim({ namespace, body: m.home }));
      await createOrReplace(
        () => core.createNamespacedSecret({ namespace, body: m.secret }),
        () => core.replaceNamespacedSecret({ namespace, name: m.names.secret, body: m.secret }),
      );
      await createOrKeep(() => core.createNamespacedService({ namespace, body: m.service }));
      await createOrReplace(
        () => net.createNamespacedNetworkPolicy({ namespace, body: m.policy }),
        () => net.replaceNamespacedNetworkPolicy({ namespace, name: m.names.policy, body: m.policy }),
      );
      // A pod left by an earlier start (one that failed or crashed) goes first: the name is the sandbox's.
      await this.#deletePod(core, namespace, m.names.pod, this.#stopWaitMs(place), 0);
      await core.createNamespacedPod({ namespace, body: m.pod });
    } catch (error) {
      const api = apiStatus(error);
      if (api.code === 403 && /exceeded quota/i.test(api.message)) {
        await this.#remove(launch.id, place, false);
        throw new SandboxStartError("quota", `the ResourceQuota of ${where} refuses the sandbox: ${api.message}`, { cause: error });
      }
      await this.#remove(launch.id, place, false);
      if (error instanceof SandboxStartError) throw error;
      throw new SandboxStartError("crash", `the API server of ${where} refused the sandbox's objects: ${api.message}`, { cause: error });
    }
    const watched: Watched = { place, stopping: false };
    this.#watched.set(launch.id, watched);
    const outcome = await this.#waitReady(informer, m.names, place, signal);
    if (outcome !== "ready") {
      watched.stopping = true;
      await this.#remove(launch.id, place, true);
      if (outcome === "aborted") throw new SandboxStartError("crash", "the start was cancelled");
      throw outcome;
    }
    return runtime;
  }

  async adopt(id: string, runtime: SandboxRuntime): Promise<boolean> {
    const kube = runtime as KubeRuntime;
    if (typeof kube.cluster !== "string" || typeof kube.namespace !== "string") return false;
    let place: Place;
    try {
      place = { cluster: this.#options.clusters.get(kube.cluster), namespace: kube.namespace };
    } catch {
      return false;
    }
    const informer = await this.#informer(place);
    if (!(await informer.whenSynced(this.#options.adoptSyncTimeoutMs ?? 30_000))) return false;
    const pod = informer.get(sandboxObjectNames(id).pod);
    if (!pod || pod.metadata?.deletionTimestamp || podProgress(pod, {}).kind !== "running") return false;
    this.#watched.set(id, { place, stopping: false });
    return true;
  }

  async stop(id: string, runtime: SandboxRuntime | null): Promise<void> {
    const watched = this.#watched.get(id);
    if (watched) watched.stopping = true;
    const kube = runtime as KubeRuntime | null;
    const places = watched ? [watched.place] : this.#placesFor(kube);
    for (const place of places) await this.#remove(id, place, false);
    this.#watched.delete(id);
  }

  async removeHome(id: string): Promise<void> {
    const name = sandboxObjectNames(id).home;
    for (const place of this.#placesFor(null)) {
      await place.cluster.core.deleteNamespacedPersistentVolumeClaim({ namespace: place.namespace, name }).catch(ignoreNotFound);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watched.clear();
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    this.#informers.clear();
  }

  /** Deletes the pod, Secret, Service and NetworkPolicy of a sandbox (the home stays); waits for the pod to be gone. */
  async #remove(id: string, place: Place, fast: boolean): Promise<void> {
    const names = sandboxObjectNames(id);
    const { cluster, namespace } = place;
    const core = cluster.core;
    const net = cluster.config.makeApiClient(NetworkingV1Api);
    await this.#deletePod(core, namespace, names.pod, this.#stopWaitMs(place), fast ? 0 : undefined);
    await core.deleteNamespacedSecret({ namespace, name: names.secret }).catch(ignoreNotFound);
    await core.deleteNamespacedService({ namespace, name: names.service }).catch(ignoreNotFound);
    await net.deleteNamespacedNetworkPolicy({ namespace, name: names.policy }).catch(ignoreNotFound);
  }

  async #deletePod(core: CoreV1Api, namespace: string, name: string, waitMs: number, graceS: number | undefined): Promise<void> {
    try {
      await core.deleteNamespacedPod({ namespace, name, ...(graceS !== undefined ? { gracePeriodSeconds: graceS } : {}) });
    } catch (error) {
      if (apiStatus(error).code === 404) return;
      throw error;
    }
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await core.readNamespacedPod({ namespace, name });
      } catch (error) {
        if (apiStatus(error).code === 404) return;
        throw error;
      }
      if (Date.now() > deadline) throw new Error(`pod ${namespace}/${name} was not gone ${Math.round(waitMs / 1000)} s after it was deleted`);
      await sleep(200);
    }
  }

  #stopWaitMs(place: Place): number {
    return this.#options.stopWaitMs ?? place.cluster.settings.terminationGraceMs + 30_000;
  }

  /** Waits until the pod is Ready, or says why it will not be. */
  async #waitReady(informer: PodInformer, names: SandboxObjectNames, place: Place, signal: AbortSignal | undefined): Promise<"ready" | "aborted" | SandboxStartError> {
    const settings = place.cluster.settings;
    const timeoutMs = this.#options.startTimeoutMs ?? settings.startupTimeoutMs;
    const graceMs = this.#options.unschedulableGraceMs ?? settings.schedulingTimeoutMs;
    const started = Date.now();
    let unschedulableSince: number | undefined;
    for (;;) {
      if (signal?.aborted || this.#closed) return "aborted";
      const pod = informer.get(names.pod);
      if (pod && !pod.metadata?.deletionTimestamp) {
        const progress = podProgress(pod, {});
        if (progress.kind === "failed-start") return new SandboxStartError("image_pull", progress.reason);
        if (progress.kind === "ended") return new SandboxStartError("crash", `JupyterLab exited before it was ready (${progress.end.reason})`);
        if (progress.kind === "lost") return new SandboxStartError("crash", progress.reason);
        if (progress.kind === "running" && isReady(pod)) return "ready";
        if (progress.kind === "pending" && progress.unschedulable !== undefined) {
          unschedulableSince ??= Date.now();
          if (Date.now() - unschedulableSince >= graceMs) return new SandboxStartError("unschedulable", `no node of cluster ${place.cluster.name} fits the sandbox: ${progress.unschedulable}`);
        } else unschedulableSince = undefined;
      }
      if (Date.now() - started > timeoutMs) return new SandboxStartError("timeout", `the pod ${place.namespace}/${names.pod} was not Ready within ${Math.round(timeoutMs / 1000)} s`);
      await sleep(TICK_MS);
    }
  }

  /** The informer of sandbox pods in one namespace of one cluster, started on first use. */
  async #informer(place: Place): Promise<PodInformer> {
    const key = `${place.cluster.name}\u0000${place.namespace}`;
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new PodInformer({
        cluster: place.cluster,
        namespace: place.namespace,
        counter: place.cluster.counter,
        labelSelector: SANDBOX_SELECTOR,
        onEvent: (type, pod) => this.#podEvent(type, pod),
      });
      this.#informers.set(key, informer);
      await informer.start();
    }
    return informer;
  }

  /** A running sandbox whose pod ended, was lost or was deleted by someone else has crashed. */
  #podEvent(type: "add" | "update" | "delete", pod: V1Pod): void {
    const id = pod.metadata?.labels?.["capstan.dev/sandbox"];
    if (id === undefined) return;
    const watched = this.#watched.get(id);
    if (!watched || watched.stopping) return;
    let reason: string | undefined;
    if (type === "delete") reason = "its pod was deleted";
    else {
      const progress = podProgress(pod, {});
      if (progress.kind === "ended") reason = `JupyterLab exited (${progress.end.reason})`;
      else if (progress.kind === "lost") reason = progress.reason;
    }
    if (reason === undefined) return;
    this.#watched.delete(id);
    for (const listener of this.#listeners) listener({ id, reason });
  }

  /** Where a sandbox's objects may be: the runtime's place, or every place of this backend's profiles. */
  #placesFor(runtime: KubeRuntime | null): Place[] {
    if (runtime && typeof runtime.cluster === "string") {
      try {
        return [{ cluster: this.#options.clusters.get(runtime.cluster), namespace: runtime.namespace }];
      } catch {
        return [];
      }
    }
    const places = new Map<string, Place>();
    for (const profile of this.#profiles) {
      try {
        const place = this.placeOf(profile);
        places.set(`${place.cluster.name}\u0000${place.namespace}`, place);
      } catch {
        // a profile whose cluster cannot be used holds no objects
      }
    }
    return [...places.values()];
  }
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function ignoreNotFound(error: unknown): void {
  if (apiStatus(error).code !== 404) throw error;
}

async function createOrKeep(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (apiStatus(error).code !== 409) throw error;
  }
}

async function createOrReplace(create: () => Promise<unknown>, replace: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (apiStatus(error).code !== 409) throw error;
    await replace();
  }
}
