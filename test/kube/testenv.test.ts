/**
 * The test control plane behaves like a cluster for every path the Kubernetes executor must
 * handle: pods chosen by labels end with the exit code, message and reason asked for, the log
 * endpoint serves the chosen text, the scheduler places GPU pods, and an informer sees each phase.
 */
import { CoreV1Api, KubeConfig, Log, makeInformer, type Informer, type ObjectCache, type V1Pod } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { appendFile } from "node:fs/promises";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  acquireKubeTestenv,
  GPU_NODE,
  podBehaviour,
  setPodLog,
  toCriLog,
  type KubeTestenv,
  type PodBehaviour,
} from "../support/kube-testenv.js";

const BUILD_AND_START_TIMEOUT_MS = 40 * 60_000;
const POD_TIMEOUT_MS = 30_000;
const RUN_LABEL = "capstan.dev/testenv-run";

let env: KubeTestenv;
let config: KubeConfig;
let core: CoreV1Api;
let namespace: string;
let informer: Informer<V1Pod> & ObjectCache<V1Pod>;
const runId = randomBytes(4).toString("hex");
/** Phases each pod went through, as the informer saw them (consecutive repeats folded). */
const phasesSeen = new Map<string, string[]>();
let informerError: unknown;

beforeAll(async () => {
  env = await acquireKubeTestenv();
  config = new KubeConfig();
  config.loadFromFile(env.kubeconfigPath);
  config.setCurrentContext(env.contexts.cpu.name);
  core = config.makeApiClient(CoreV1Api);
  namespace = env.contexts.cpu.namespace;
  const labelSelector = `${RUN_LABEL}=${runId}`;
  informer = makeInformer(
    config,
    `/api/v1/namespaces/${namespace}/pods`,
    () => core.listNamespacedPod({ namespace, labelSelector }),
    labelSelector,
  );
  const record = (pod: V1Pod): void => {
    const name = pod.metadata?.name ?? "";
    const phase = pod.status?.phase ?? "(none)";
    const phases = phasesSeen.get(name) ?? [];
    if (phases[phases.length - 1] !== phase) phases.push(phase);
    phasesSeen.set(name, phases);
  };
  informer.on("add", record);
  informer.on("update", record);
  informer.on("error", (error: unknown) => {
    informerError = error;
  });
  await informer.start();
}, BUILD_AND_START_TIMEOUT_MS);

afterAll(async () => {
  await informer?.stop();
  await env?.stop();
});

let podCount = 0;
function podName(what: string): string {
  podCount += 1;
  return `testenv-${runId}-${podCount}-${what}`;
}

function podManifest(name: string, behaviour: PodBehaviour, extra: Partial<V1Pod["spec"]> = {}): V1Pod {
  const meta = podBehaviour(behaviour);
  return {
    metadata: { name, labels: { ...meta.labels, [RUN_LABEL]: runId }, annotations: meta.annotations },
    spec: {
      restartPolicy: "Never",
      containers: [{ name: "main", image: "registry.example/capstan/task:1", command: ["run-task"] }],
      ...extra,
    },
  };
}

/** Resolves with the pod once `predicate` holds, as seen by the informer. */
function waitForPod(name: string, what: string, predicate: (pod: V1Pod) => boolean): Promise<V1Pod> {
  return new Promise((resolve, reject) => {
    const check = (pod: V1Pod): void => {
      if (pod.metadata?.name !== name || !predicate(pod)) return;
      done();
      resolve(pod);
    };
    const timer = setTimeout(() => {
      done();
      const current = informer.get(name, namespace);
      reject(new Error(`pod ${name} did not become ${what} within ${POD_TIMEOUT_MS} ms; ` +
        `status: ${JSON.stringify(current?.status ?? null)}; informer error: ${String(informerError)}`));
    }, POD_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      informer.off("add", check);
      informer.off("update", check);
    };
    informer.on("add", check);
    informer.on("update", check);
    const cached = informer.get(name, namespace);
    if (cached !== undefined) check(cached);
  });
}

function waitForDeletion(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDelete = (pod: V1Pod): void => {
      if (pod.metadata?.name !== name) return;
      clearTimeout(timer);
      informer.off("delete", onDelete);
      resolve();
    };
    const timer = setTimeout(() => {
      informer.off("delete", onDelete);
      reject(new Error(`pod ${name} was not removed within ${POD_TIMEOUT_MS} ms`));
    }, POD_TIMEOUT_MS);
    informer.on("delete", onDelete);
  });
}

const ended = (pod: V1Pod): boolean => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

describe("kube testenv", () => {
  it("runs a pod without behaviour labels to Succeeded with exit code 0, and the informer sees each phase", async () => {
    const name = podName("ok");
    await core.createNamespacedPod({ namespace, body: podManifest(name, { runDurationMs: 300 }) });
    const pod = await waitForPod(name, "ended", ended);
    expect(pod.status?.phase).toBe("Succeeded");
    expect(pod.spec?.nodeName).toBe(env.nodes.cpu);
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode).toBe(0);
    expect(terminated?.reason).toBe("Completed");
    expect(phasesSeen.get(name)).toEqual(["Pending", "Running", "Succeeded"]);
  });

  it("ends a pod labelled to exit with code 3 as Failed with that code and termination message", async () => {
    const name = podName("exit3");
    const message = '{"model_uri": "s3://models/7"}';
    await core.createNamespacedPod({ namespace, body: podManifest(name, { outcome: "fail", exitCode: 3, message }) });
    const pod = await waitForPod(name, "ended", ended);
    expect(pod.status?.phase).toBe("Failed");
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated).toMatchObject({ exitCode: 3, reason: "Error", message });
  });

  it("ends a pod with exit code 0 and a termination message as Succeeded carrying the message", async () => {
    const name = podName("output");
    const message = '{"rows": 12}';
    await core.createNamespacedPod({ namespace, body: podManifest(name, { message }) });
    const pod = await waitForPod(name, "ended", ended);
    expect(pod.status?.phase).toBe("Succeeded");
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.message).toBe(message);
  });

  it("evicts a pod labelled evicted: Failed with reason Evicted and the kubelet's message", async () => {
    const name = podName("evicted");
    await core.createNamespacedPod({ namespace, body: podManifest(name, { outcome: "evicted" }) });
    const pod = await waitForPod(name, "ended", ended);
    expect(pod.status?.phase).toBe("Failed");
    expect(pod.status?.reason).toBe("Evicted");
    expect(pod.status?.message).toMatch(/low on resource: memory/);
    expect(pod.status?.conditions?.find((c) => c.type === "DisruptionTarget")?.status).toBe("True");
  });

  it("kills a pod labelled oom-killed with reason OOMKilled and exit code 137", async () => {
    const name = podName("oom");
    await core.createNamespacedPod({ namespace, body: podManifest(name, { outcome: "oom-killed" }) });
    const pod = await waitForPod(name, "ended", ended);
    expect(pod.status?.phase).toBe("Failed");
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
  });

  it("keeps a pod labelled image-pull-error Pending in ErrImagePull, then ImagePullBackOff naming the image", async () => {
    const name = podName("pull");
    await core.createNamespacedPod({ namespace, body: podManifest(name, { outcome: "image-pull-error" }) });
    const waiting = (reason: string) => (pod: V1Pod) =>
      pod.status?.containerStatuses?.[0]?.state?.waiting?.reason === reason;
    await waitForPod(name, "ErrImagePull", waiting("ErrImagePull"));
    const pod = await waitForPod(name, "ImagePullBackOff", waiting("ImagePullBackOff"));
    expect(pod.status?.phase).toBe("Pending");
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain("registry.example/capstan/task:1");
  });

  it("leaves a pod asking for a GPU without the toleration unschedulable, with the scheduler's message", async () => {
    const name = podName("unsched");
    const body = podManifest(name, {});
    body.spec!.containers[0]!.resources = { limits: { [GPU_NODE.resource]: "1" } };
    await core.createNamespacedPod({ namespace, body });
    const pod = await waitForPod(name, "Unschedulable", (p) =>
      p.status?.conditions?.some((c) => c.type === "PodScheduled" && c.reason === "Unschedulable") ?? false,
    );
    expect(pod.status?.phase).toBe("Pending");
    expect(pod.status?.conditions?.find((c) => c.type === "PodScheduled")?.message).toMatch(/nvidia\.com\/gpu|taint/);
    await core.deleteNamespacedPod({ namespace, name });
  });

  it("schedules a GPU pod with the toleration onto the GPU node", async () => {
    const name = podName("gpu");
    const body = podManifest(name, {}, {
      tolerations: [{ key: GPU_NODE.taint.key, operator: "Exists", effect: GPU_NODE.taint.effect }],
    });
    body.spec!.containers[0]!.resources = { limits: { [GPU_NODE.resource]: "2" } };
    await core.createNamespacedPod({ namespace, body });
    const pod = await waitForPod(name, "ended", ended);
    expect(pod.spec?.nodeName).toBe(env.nodes.gpu);
    expect(pod.status?.phase).toBe("Succeeded");
  });

  it("keeps a pod labelled pending in ContainerCreating and one labelled running Running until deleted", async () => {
    const pending = podName("pending");
    const running = podName("running");
    await core.createNamespacedPod({ namespace, body: podManifest(pending, { outcome: "pending" }) });
    await core.createNamespacedPod({ namespace, body: podManifest(running, { outcome: "running" }) });
    const pendingPod = await waitForPod(pending, "ContainerCreating", (p) =>
      p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ContainerCreating",
    );
    expect(pendingPod.status?.phase).toBe("Pending");
    const runningPod = await waitForPod(running, "Running", (p) => p.status?.phase === "Running");
    expect(runningPod.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeDefined();
    const removed = Promise.all([waitForDeletion(pending), waitForDeletion(running)]);
    await core.deleteNamespacedPod({ namespace, name: pending });
    await core.deleteNamespacedPod({ namespace, name: running });
    await removed;
    expect(informer.get(running, namespace)).toBeUndefined();
  });

  it("stops the containers of a deleted pod held by a finalizer, and removes it once the finalizer is gone", async () => {
    const name = podName("finalizer");
    const body = podManifest(name, { outcome: "running" });
    body.metadata!.finalizers = ["capstan.dev/test-hold"];
    await core.createNamespacedPod({ namespace, body });
    await waitForPod(name, "Running", (p) => p.status?.phase === "Running");
    await core.deleteNamespacedPod({ namespace, name });
    const held = await waitForPod(name, "Failed", (p) => p.status?.phase === "Failed");
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    expect(held.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
    const removed = waitForDeletion(name);
    const current = await core.readNamespacedPod({ namespace, name });
    current.metadata!.finalizers = [];
    await core.replaceNamespacedPod({ namespace, name, body: current });
    await removed;
  });

  it("serves the chosen log content from the pod's log endpoint", async () => {
    const name = podName("logs");
    const text = "epoch 1 loss 0.9\nepoch 2 loss 0.4\ndone\n";
    await setPodLog(env, { namespace, pod: name, text });
    await core.createNamespacedPod({ namespace, body: podManifest(name, {}) });
    await waitForPod(name, "ended", ended);
    const log = await core.readNamespacedPodLog({ namespace, name, container: "main" });
    expect(log).toBe(text);
  });

  it("streams a running pod's log to a follower, including lines appended later", async () => {
    const name = podName("follow");
    const file = await setPodLog(env, { namespace, pod: name, text: "step 1\n" });
    await core.createNamespacedPod({ namespace, body: podManifest(name, { outcome: "running" }) });
    await waitForPod(name, "Running", (p) => p.status?.phase === "Running");
    const stream = new PassThrough();
    let received = "";
    const bothLines = new Promise<void>((resolve) => {
      stream.on("data", (chunk: Buffer) => {
        received += chunk.toString("utf8");
        if (received.includes("step 2\n")) resolve();
      });
    });
    const follow = await new Log(config).log(namespace, name, "main", stream, { follow: true });
    await appendFile(file, toCriLog("step 2\n"));
    await bothLines;
    follow.abort();
    expect(received).toBe("step 1\nstep 2\n");
    await core.deleteNamespacedPod({ namespace, name });
  });

  it("serves the default log for a pod without a chosen log", async () => {
    const name = podName("deflog");
    await core.createNamespacedPod({ namespace, body: podManifest(name, {}) });
    await waitForPod(name, "ended", ended);
    const log = await core.readNamespacedPodLog({ namespace, name, container: "main" });
    expect(log).toContain("no log was set for this pod");
  });

  it("reaches the gpu context's own namespace through the same kubeconfig", async () => {
    const gpuConfig = new KubeConfig();
    gpuConfig.loadFromFile(env.kubeconfigPath);
    gpuConfig.setCurrentContext(env.contexts.gpu.name);
    const gpuNamespace = gpuConfig.getContextObject(gpuConfig.getCurrentContext())?.namespace;
    expect(gpuNamespace).toBe(env.contexts.gpu.namespace);
    expect(gpuNamespace).not.toBe(namespace);
    const gpuCore = gpuConfig.makeApiClient(CoreV1Api);
    const name = podName("gpuctx");
    await gpuCore.createNamespacedPod({ namespace: gpuNamespace!, body: podManifest(name, {}) });
    const listed = await gpuCore.listNamespacedPod({ namespace: gpuNamespace!, labelSelector: `${RUN_LABEL}=${runId}` });
    expect(listed.items.map((p) => p.metadata?.name)).toEqual([name]);
    await gpuCore.deleteNamespacedPod({ namespace: gpuNamespace!, name });
  });
});
