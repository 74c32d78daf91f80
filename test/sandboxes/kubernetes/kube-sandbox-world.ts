/**
 * Sandbox test worlds on the Kubernetes test control plane (kube-apiserver, kube-scheduler, etcd and
 * kwok; see docs/kube-testenv.md): the Kubernetes backend on the plane's `cpu` and `gpu` clusters,
 * sandbox profiles that run there, and what the plane lacks to run a sandbox pod:
 *
 * - kwok plays the kubelet, so pods "run" without containers and no JupyterLab ever answers; the
 *   cluster's pod template labels sandbox pods to stay Running (or to fail pulling their image);
 * - no kube-controller-manager runs, so nothing binds PersistentVolumeClaims: `VolumeBinder` plays
 *   the PV controller for the sandboxes' claims (a PV per claim, bound both ways) and the PVC
 *   protection controller (a deleted claim goes once no pod uses it), and tests that need a
 *   ResourceQuota write its status as the quota controller would.
 */
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { SandboxesConfigFile, SandboxProfileFile } from "../../../src/config/index.js";
import { resolveSandboxSettings } from "../../../src/sandboxes/index.js";
import { createKubernetesSandboxBackend, type KubernetesSandboxBackend, type KubernetesSandboxBackendOptions } from "../../../src/sandboxes/kubernetes/index.js";
import { kubeTestenv, readPod, TEST_IMAGE, testClusters } from "../../kube/executor/kube-harness.js";
import { podBehaviour, type KubeTestenv, type PodOutcome } from "../../support/kube-testenv.js";
import { openSandboxWorld, type SandboxWorld, type SandboxWorldOptions } from "../sandbox-fixture.js";

export const SANDBOX_NAMESPACE = "capstan-cpu";
export const GPU_SANDBOX_NAMESPACE = "capstan-gpu";

export function core(env: KubeTestenv, context: "cpu" | "gpu" = "cpu"): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromFile(env.kubeconfigPath);
  config.setCurrentContext(env.contexts[context].name);
  return config.makeApiClient(CoreV1Api);
}

/** The label a team volume's claim carries in tests so the binder binds it too. */
const BIND_LABEL = "kube-testenv.capstan.dev/bind";

/** Plays the PV and PVC-protection controllers for claims of sandboxes (and test team volumes) in some namespaces. */
export class VolumeBinder {
  readonly #core: CoreV1Api;
  readonly #namespaces: string[];
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(core: CoreV1Api, namespaces: string[]) {
    this.#core = core;
    this.#namespaces = namespaces;
  }

  start(): void {
    this.#timer = setInterval(() => void this.bindAll().catch(() => undefined), 100);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async bindAll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (const namespace of this.#namespaces) {
        const claims = await this.#core.listNamespacedPersistentVolumeClaim({ namespace });
        let used: Set<string> | undefined;
        for (const claim of claims.items) {
          const labels = claim.metadata?.labels ?? {};
          const ours = labels["capstan.dev/managed-by"] === "capstan-sandboxes" || labels[BIND_LABEL] === "true";
          if (!ours) continue;
          if (claim.metadata?.deletionTimestamp) {
            if (!claim.metadata.finalizers?.length) continue;
            used ??= await this.#claimsInUse(namespace);
            if (!used.has(claim.metadata.name ?? "")) await this.#release(namespace, claim.metadata.name ?? "");
          } else if (!claim.spec?.volumeName) await this.#bind(claim);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #claimsInUse(namespace: string): Promise<Set<string>> {
    const pods = await this.#core.listNamespacedPod({ namespace });
    return new Set(pods.items.flatMap((pod) => (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []))));
  }

  /** What the controllers do for a deleted claim no pod uses: drop its protection, then its volume (reclaim policy Delete). */
  async #release(namespace: string, name: string): Promise<void> {
    const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    await this.#core.patchNamespacedPersistentVolumeClaim({ namespace, name, body: { metadata: { finalizers: null } } }, merge);
    const pvName = `pv-${namespace}-${name}`.slice(0, 253);
    await this.#core.deletePersistentVolume({ name: pvName }).catch(() => undefined);
    await this.#core.patchPersistentVolume({ name: pvName, body: { metadata: { finalizers: null } } }, merge).catch(() => undefined);
  }

  async #bind(claim: V1PersistentVolumeClaim): Promise<void> {
    const namespace = claim.metadata?.namespace ?? "";
    const name = claim.metadata?.name ?? "";
    const pvName = `pv-${namespace}-${name}`.slice(0, 253);
    await this.#core
      .createPersistentVolume({
        body: {
          metadata: { name: pvName },
          spec: {
            capacity: { storage: claim.spec?.resources?.requests?.storage ?? "1Gi" },
            accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
            ...(claim.spec?.storageClassName ? { storageClassName: claim.spec.storageClassName } : {}),
            persistentVolumeReclaimPolicy: "Delete",
            hostPath: { path: `/tmp/${pvName}` },
            claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace, name, uid: claim.metadata?.uid ?? "" },
          },
        },
      })
      .catch(() => undefined);
    const bound = await this.#core.readNamespacedPersistentVolumeClaim({ namespace, name });
    bound.spec = { ...bound.spec, volumeName: pvName };
    bound.metadata = { ...bound.metadata, annotations: { ...(bound.metadata?.annotations ?? {}), "pv.kubernetes.io/bind-completed": "yes" } };
    const updated = await this.#core.replaceNamespacedPersistentVolumeClaim({ namespace, name, body: bound });
    updated.status = { ...updated.status, phase: "Bound", accessModes: updated.spec?.accessModes ?? [], capacity: { storage: updated.spec?.resources?.requests?.storage ?? "1Gi" } };
    await this.#core.replaceNamespacedPersistentVolumeClaimStatus({ namespace, name, body: updated });
    const pv = await this.#core.readPersistentVolume({ name: pvName });
    pv.status = { phase: "Bound" };
    await this.#core.replacePersistentVolumeStatus({ name: pvName, body: pv });
  }
}

/** A team volume's RWX claim, made by the test as an admin would. */
export async function createTeamClaim(api: CoreV1Api, namespace: string, name: string): Promise<void> {
  await api
    .createNamespacedPersistentVolumeClaim({
      namespace,
      body: { metadata: { name, labels: { [BIND_LABEL]: "true" } }, spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "1Gi" } } } },
    })
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
}

export interface KubeSandboxWorldOptions extends SandboxWorldOptions {
  /** What kwok does with the sandboxes' pods (default: they stay Running). */
  outcome?: PodOutcome;
  /** More settings of the backend. */
  backendOptions?: Partial<Omit<KubernetesSandboxBackendOptions, "clusters" | "profiles">>;
  /** Namespaces the binder looks after besides the two clusters' own. */
  namespaces?: string[];
}

export interface KubeSandboxWorld extends SandboxWorld {
  env: KubeTestenv;
  kube: CoreV1Api;
  /** Every backend opened (the first, then one per reopen). */
  kubeBackends: KubernetesSandboxBackend[];
}

/** Profiles of the world: the given ones run on Kubernetes (on `cpu` unless they say), else one `default`. */
function kubeProfiles(config: SandboxesConfigFile | undefined): SandboxesConfigFile {
  const profiles: Record<string, SandboxProfileFile> = {};
  for (const [name, p] of Object.entries(config?.profiles ?? { default: {} })) profiles[name] = { backend: "kubernetes", image: TEST_IMAGE, cluster: "cpu", ...p };
  return { ...config, profiles };
}

/** A sandbox world whose profiles run on the test plane's clusters. */
export async function openKubeSandboxWorld(options: KubeSandboxWorldOptions = {}): Promise<KubeSandboxWorld> {
  const env = await kubeTestenv();
  const dir = mkdtempSync(join(tmpdir(), "capstan-sbx-kube-"));
  const template = join(dir, "pod-template.yaml");
  writeFileSync(template, stringify({ metadata: podBehaviour({ outcome: options.outcome ?? "running" }) }));
  const clusterSettings = { pod_template: template, scheduling_timeout: "3s", startup_timeout: "60s", termination_grace: "0s" };
  const clusters = testClusters(env, { cpu: clusterSettings, gpu: clusterSettings });
  const config = kubeProfiles(options.config);
  const settings = resolveSandboxSettings(config);
  const kube = core(env);
  const binder = new VolumeBinder(kube, [SANDBOX_NAMESPACE, GPU_SANDBOX_NAMESPACE, ...(options.namespaces ?? [])]);
  binder.start();
  const kubeBackends: KubernetesSandboxBackend[] = [];
  const world = await openSandboxWorld({
    ...options,
    config,
    backend: () => {
      const backend = createKubernetesSandboxBackend({ clusters, file: null }, settings, { homeStorageClass: "capstan-test-rwo", homeSize: "2Gi", ...options.backendOptions });
      kubeBackends.push(backend);
      return backend;
    },
  });
  return {
    ...world,
    env,
    kube,
    kubeBackends,
    async close() {
      const ids = (await world.store.sandboxes.list({})).map((row) => row.id);
      await world.close();
      // The plane is shared by the whole test run: leave no claim or volume of this world behind.
      for (const id of ids) {
        for (const namespace of [SANDBOX_NAMESPACE, GPU_SANDBOX_NAMESPACE]) {
          await kube.deleteNamespacedPersistentVolumeClaim({ namespace, name: `sandbox-${id}-home` }).catch(() => undefined);
        }
      }
      binder.stop();
      await binder.bindAll().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The pod of a sandbox, or undefined. */
export function sandboxPod(api: CoreV1Api, id: string, namespace = SANDBOX_NAMESPACE) {
  return readPod(api, namespace, `sandbox-${id}`);
}

/** The home claim of a sandbox, or undefined. */
export async function homeClaim(api: CoreV1Api, id: string, namespace = SANDBOX_NAMESPACE): Promise<V1PersistentVolumeClaim | undefined> {
  try {
    return await api.readNamespacedPersistentVolumeClaim({ namespace, name: `sandbox-${id}-home` });
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}
