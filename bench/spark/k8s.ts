/**
 * The Kubernetes part of the Spark benchmark: `spark:` tasks with master k8s through the real
 * scheduler and Kubernetes executor against the test control plane (real kube-apiserver and
 * kube-scheduler, kwok as the kubelet), one after another, with the API requests Capstan sends per
 * task counted client-side as bench/kubernetes counts them. spark-submit's own requests (its JVM's
 * client) are not in that count; the objects it created are listed beside it.
 */
import { CoreV1Api, KubeConfig, type V1ObjectMeta } from "@kubernetes/client-node";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../../src/config/index.js";
import { createKubernetesExecutor, RequestCounter, type RequestCounts } from "../../src/executors/kubernetes/index.js";
import { podName } from "../../src/executors/kubernetes/kube/index.js";
import type { StateChange } from "../../src/scheduler/index.js";
import { isFinishedRun } from "../../src/store/index.js";
import { Platform } from "../../src/wiring/index.js";
import { podBehaviour, setPodLog, type KubeTestenv } from "../../test/support/kube-testenv.js";

export interface SparkK8sFigures {
  tasks: number;
  succeeded: number;
  /** Capstan's requests over all tasks (client-side). */
  counts: RequestCounts;
  /** Objects spark-submit created per task besides the driver pod, by kind (owned by the driver). */
  submitObjects: Record<string, number>;
  /** Median of trigger → task ended, ms. */
  taskMs: number;
}

const PIPELINE = "spark-k8s-bench";

/** Runs `tasks` spark tasks with master k8s, one at a time, and counts Capstan's API requests. */
export async function measureSparkK8s(env: KubeTestenv, dir: string, python: string, tasks: number): Promise<SparkK8sFigures> {
  const pipelines = join(dir, "pipelines-k8s");
  mkdirSync(pipelines, { recursive: true });
  const { labels, annotations } = podBehaviour({ outcome: "complete", runDurationMs: 300 });
  const kubernetes = JSON.stringify({ labels, annotations });
  const lines = [`id: ${PIPELINE}`, "max_active_tasks: 1", "defaults: { executor: kubernetes, cluster: cpu }", "tasks:"];
  for (let i = 0; i < tasks; i++) {
    lines.push(`  t${i}: { spark: { application: "local:///opt/jobs/job.py", master: k8s, conf: { spark.executor.instances: "1" } }, kubernetes: ${kubernetes} }`);
  }
  writeFileSync(join(pipelines, `${PIPELINE}.yaml`), `${lines.join("\n")}\n`);

  const config = loadConfig({ home: join(dir, "home-k8s"), pipelines: [pipelines] }, {}, dir);
  config.python = python;
  const namespace = env.contexts.cpu.namespace;
  config.clusters = { cpu: { kubeconfig: env.kubeconfigPath, context: env.contexts.cpu.name, image: "registry.example/capstan/task:1", startup_timeout: "120s" } };
  const logger = pino({ level: process.env.CAPSTAN_LOG_LEVEL ?? "warn" });
  const counter = new RequestCounter();
  const executor = createKubernetesExecutor(config, { logger, counter, sparkPython: python });
  const platform = await Platform.open({ config, logger, executors: new Map([["kubernetes", executor]]), specChecks: [executor.specCheck("local")] });
  const ended: number[] = [];
  let runId = "";
  let queuedAt = 0;
  const finished = new Promise<void>((resolve) => {
    platform.scheduler.events.on("change", (change: StateChange) => {
      if (change.runId !== runId) return;
      if (change.kind === "task" && change.state === "queued") queuedAt = performance.now();
      if (change.kind === "task" && (change.state === "success" || change.state === "failed")) ended.push(performance.now() - queuedAt);
      if (change.kind === "run" && isFinishedRun(change.state)) resolve();
    });
  });
  try {
    await platform.start();
    counter.reset();
    const run = await platform.scheduler.trigger(PIPELINE);
    runId = run.id;
    const drivers = Array.from({ length: tasks }, (_, i) => podName({ pipelineId: PIPELINE, runId: run.id, taskId: `t${i}`, tryNumber: 1 }));
    for (const pod of drivers) await setPodLog(env, { namespace, pod, text: "rows: 1000\n" });
    await finished;
    const counts = counter.snapshot();
    const states = await platform.store.tasks.listByRun(run.id);
    const submitObjects = await objectsOwnedBy(env, namespace, drivers);
    for (const [kind, n] of Object.entries(submitObjects)) submitObjects[kind] = n / tasks;
    const sorted = [...ended].sort((a, b) => a - b);
    return { tasks, succeeded: states.filter((t) => t.state === "success").length, counts, submitObjects, taskMs: sorted[Math.floor(sorted.length / 2)] ?? NaN };
  } finally {
    await platform.close();
  }
}

/** ConfigMaps and Services in the namespace owned by one of the driver pods (what spark-submit made beside them). */
async function objectsOwnedBy(env: KubeTestenv, namespace: string, drivers: readonly string[]): Promise<Record<string, number>> {
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfigPath);
  kc.setCurrentContext(env.contexts.cpu.name);
  const core = kc.makeApiClient(CoreV1Api);
  const owned = (meta: V1ObjectMeta | undefined) => (meta?.ownerReferences ?? []).some((ref) => ref.kind === "Pod" && drivers.includes(ref.name));
  const configMaps = (await core.listNamespacedConfigMap({ namespace })).items.filter((x) => owned(x.metadata)).length;
  const services = (await core.listNamespacedService({ namespace })).items.filter((x) => owned(x.metadata)).length;
  return { "driver pod": drivers.length, "ConfigMap owned by the driver": configMaps, "Service owned by the driver": services };
}
