/**
 * Helpers for tests of the Kubernetes executor on the test control plane: the `clusters:` of
 * capstan.yaml for its two contexts, a platform opened on them, the pod of an attempt, and
 * "steering" a pod (changing the label and annotations kwok reads) the way a test chooses its fate.
 */
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from "@kubernetes/client-node";
import pino from "pino";
import { loadConfig, type CapstanConfig } from "../../../src/config/index.js";
import { podName } from "../../../src/executors/kubernetes/kube/index.js";
import { Platform } from "../../../src/wiring/index.js";
import { acquireKubeTestenv, podBehaviour, setPodLog, type KubeTestenv, type PodBehaviour } from "../../support/kube-testenv.js";
import { openHarness, type Harness } from "../../support/platform-harness.js";

/** The image every test pod names (never pulled: kwok plays the kubelet). */
export const TEST_IMAGE = "registry.example/capstan/task:1";

let shared: Promise<KubeTestenv> | undefined;

/** The shared test control plane (started by the global setup). */
export function kubeTestenv(): Promise<KubeTestenv> {
  shared ??= acquireKubeTestenv();
  return shared;
}

/** capstan.yaml's `clusters:` for the test plane: `cpu` and `gpu`, two contexts and namespaces. */
export function testClusters(env: KubeTestenv, extra: { cpu?: Record<string, unknown>; gpu?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    cpu: { kubeconfig: env.kubeconfigPath, context: env.contexts.cpu.name, image: TEST_IMAGE, startup_timeout: "60s", termination_grace: "1s", ...extra.cpu },
    gpu: {
      kubeconfig: env.kubeconfigPath,
      context: env.contexts.gpu.name,
      image: TEST_IMAGE,
      startup_timeout: "60s",
      termination_grace: "1s",
      gpu_tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      gpu_node_selector: { "nvidia.com/gpu.present": "true" },
      ...extra.gpu,
    },
  };
}

/** A CoreV1Api on one of the test plane's contexts. */
export function coreApi(env: KubeTestenv, context: "cpu" | "gpu" = "cpu"): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromFile(env.kubeconfigPath);
  config.setCurrentContext(env.contexts[context].name);
  return config.makeApiClient(CoreV1Api);
}

/** The `kubernetes:` field (as YAML flow text) that gives a task's pods this behaviour. */
export function behaviourYaml(behaviour: PodBehaviour, more: Record<string, unknown> = {}): string {
  const { labels, annotations } = podBehaviour(behaviour);
  return JSON.stringify({ labels, annotations, ...more });
}

/** The pod name of an attempt. */
export function attemptPod(pipelineId: string, runId: string, taskId: string, tryNumber = 1): string {
  return podName({ pipelineId, runId, taskId, tryNumber });
}

/** Sets the log a pod will serve (it may not exist yet). */
export async function setAttemptLog(env: KubeTestenv, namespace: string, pod: string, text: string): Promise<void> {
  await setPodLog(env, { namespace, pod, text });
}

/** Reads a pod, or undefined when it does not exist. */
export async function readPod(core: CoreV1Api, namespace: string, name: string): Promise<V1Pod | undefined> {
  try {
    return await core.readNamespacedPod({ namespace, name });
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

/** Polls until `check` returns a value (generous timeout; for waits, not for timing). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits for a pod to exist and returns it. */
export function waitForPod(core: CoreV1Api, namespace: string, name: string, predicate: (pod: V1Pod) => boolean = () => true): Promise<V1Pod> {
  return eventually(`pod ${namespace}/${name}`, async () => {
    const pod = await readPod(core, namespace, name);
    return pod && predicate(pod) ? pod : undefined;
  });
}

/** Waits until a pod no longer exists. */
export async function waitForPodGone(core: CoreV1Api, namespace: string, name: string): Promise<void> {
  await eventually(`pod ${namespace}/${name} removed`, async () => (await readPod(core, namespace, name)) === undefined);
}

/**
 * Changes what kwok does next with a pod, as the test plane's stages read it: e.g. a pod labelled
 * "running" is made to complete with `{ outcome: "complete" }` or to fail with `{ outcome: "fail", exitCode: 1 }`.
 */
export async function steerPod(core: CoreV1Api, namespace: string, name: string, behaviour: PodBehaviour): Promise<void> {
  const { labels, annotations } = podBehaviour(behaviour);
  await core.patchNamespacedPod({ namespace, name, body: { metadata: { labels, annotations } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
}

/** Pods of a run (by Capstan's run label). */
export async function podsOfRun(core: CoreV1Api, namespace: string, runId: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace, labelSelector: `capstan.dev/run=${runId}` });
  return list.items;
}

/** Opens a second platform on a harness's home (a restarted scheduler). */
export async function reopenPlatform(h: Pick<Harness, "home" | "pipelinesDir" | "dir">, configure: (config: CapstanConfig) => void): Promise<Platform> {
  const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
  config.killGraceMs = 2000;
  configure(config);
  const platform = await Platform.open({ config, logger: pino({ level: process.env.CAPSTAN_TEST_LOG ?? "silent" }) });
  await platform.start();
  return platform;
}

/** A platform on the test plane with one pipeline loaded (scheduling not yet started). */
export interface KubePipeline {
  h: Harness;
  env: KubeTestenv;
  pipelineId: string;
  /** Errors of the pipeline file, formatted with file:line:col. */
  errors: string[];
}

let pipelineCount = 0;

/**
 * Opens a platform whose clusters are the test plane's, writes a pipeline with `tasks` (YAML lines
 * under `tasks:`), and loads it. Scheduling starts with `h.platform.start()`.
 */
export async function openKubePipeline(
  tasks: string,
  options: { clusters?: (env: KubeTestenv) => Record<string, unknown>; configure?: (config: CapstanConfig) => void; header?: string } = {},
): Promise<KubePipeline> {
  const env = await kubeTestenv();
  const h = await openHarness({
    start: false,
    configure: (config) => {
      config.clusters = options.clusters ? options.clusters(env) : testClusters(env);
      config.defaultExecutor = "kubernetes";
      options.configure?.(config);
    },
  });
  pipelineCount += 1;
  const pipelineId = `kube-${process.pid}-${pipelineCount}`;
  h.writePipeline(`${pipelineId}.yaml`, `id: ${pipelineId}\n${options.header ?? ""}tasks:\n${tasks}`);
  const change = await h.platform.reloadPipelines();
  return { h, env, pipelineId, errors: change.errors.map((e) => e.message) };
}
