/**
 * Deployments on the Kubernetes test plane: the controller applies a ConfigMap, a Deployment and a
 * Service with deterministic names and the capstan.dev/deployment label, GPU requests with the GPU
 * cluster's tolerations and node selector, the cluster's image; a moved alias rolls the Deployment
 * by a new pod template (maxSurge 1, maxUnavailable 0), scaling changes its replicas, and deleting
 * removes the objects and the record. The plane runs no containers: the objects are asserted.
 */
import { AppsV1Api, KubeConfig } from "@kubernetes/client-node";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { clusterConfigSource, KubeClusters, parseClusters, RequestCounter } from "../../src/executors/kubernetes/kube/index.js";
import { DeploymentController, KubeDeployments } from "../../src/serving/deployments/index.js";
import { Store, type StoredDeployment } from "../../src/store/index.js";
import { tempDir } from "../support/platform-harness.js";
import { coreApi, eventually, kubeTestenv, TEST_IMAGE, testClusters } from "./executor/kube-harness.js";

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

const row = (namespace: string): StoredDeployment => ({
  name: "users-prod",
  team: "ml",
  model: "users",
  ref: "production",
  version: 1,
  previousVersion: null,
  replicas: 2,
  target: "kubernetes",
  cluster: "gpu",
  namespace,
  cpu: "500m",
  memory: "1Gi",
  gpus: 1,
  state: "pending",
  message: null,
  replicaStatus: null,
  tokenAuth: 0,
  inferenceKey: null,
  createdBy: "ana",
  createdAt: 1,
  updatedAt: 1,
});

describe("deployments on Kubernetes", () => {
  it("apply a Deployment and Service, roll on an alias move by the pod template, scale, and delete", async () => {
    const env = await kubeTestenv();
    const namespace = env.contexts.gpu.namespace;
    const clusters = new KubeClusters(parseClusters(testClusters(env), clusterConfigSource(null)), new RequestCounter());
    store = await Store.open({ url: join(tempDir(), "capstan.db") });
    await store.models.ensure("users", "ml", 1);
    for (const sha of ["a", "b"]) {
      await store.models.addVersion({ name: "users", kind: "mar", sha256: sha, artifactPath: `models/users/${sha}.mar`, sourcePath: "/x", sizeBytes: 1, runId: null, taskId: null, params: null, metrics: null, createdBy: null, createdAt: 1 });
    }
    await store.models.setAlias("users", "production", 1, 1);
    await store.deployments.insert(row(namespace));
    const controller = new DeploymentController({ store, home: tempDir(), command: [], env: {}, log: { info: () => undefined, warn: () => undefined }, kube: new KubeDeployments(clusters) });

    const config = new KubeConfig();
    config.loadFromFile(env.kubeconfigPath);
    config.setCurrentContext(env.contexts.gpu.name);
    const apps = config.makeApiClient(AppsV1Api);
    const core = coreApi(env, "gpu");
    const name = "capstan-serve-users-prod";

    await controller.pass();
    const first = await apps.readNamespacedDeployment({ name, namespace });
    expect(first.metadata?.labels).toMatchObject({ "capstan.dev/deployment": "users-prod", "capstan.dev/managed-by": "capstan", "capstan.dev/model": "users" });
    expect(first.spec?.replicas).toBe(2);
    expect(first.spec?.strategy).toMatchObject({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(first.spec?.selector.matchLabels).toEqual({ "capstan.dev/deployment": "users-prod" });
    const pod = first.spec?.template;
    expect(pod?.metadata?.labels?.["capstan.dev/model-version"]).toBe("1");
    const container = pod?.spec?.containers[0];
    expect(container?.image).toBe(TEST_IMAGE);
    expect(container?.args).toEqual(expect.arrayContaining(["serve", "--model", "users@1"]));
    expect(container?.resources?.requests).toMatchObject({ cpu: "500m", memory: "1Gi", "nvidia.com/gpu": "1" });
    expect(container?.resources?.limits).toMatchObject({ "nvidia.com/gpu": "1" });
    expect(container?.readinessProbe?.httpGet?.path).toBe("/ping");
    expect(pod?.spec?.tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" })]));
    expect(pod?.spec?.nodeSelector).toMatchObject({ "nvidia.com/gpu.present": "true" });
    const service = await core.readNamespacedService({ name, namespace });
    expect(service.spec?.selector).toEqual({ "capstan.dev/deployment": "users-prod" });
    expect(service.spec?.ports?.[0]?.port).toBe(8080);
    expect((await core.readNamespacedConfigMap({ name, namespace })).data?.["config.properties"]).toContain("inference_address=http://0.0.0.0:8080");
    expect((await store.deployments.get("users-prod"))?.state).toMatch(/^(rolling|ready)$/);

    // A pass with nothing new changes nothing.
    await controller.pass();
    expect((await apps.readNamespacedDeployment({ name, namespace })).metadata?.generation).toBe(first.metadata?.generation);

    // The alias moves: the pod template changes to the new version (Kubernetes rolls it).
    await store.models.setAlias("users", "production", 2, 2);
    await controller.pass();
    const rolled = await apps.readNamespacedDeployment({ name, namespace });
    expect(rolled.spec?.template.metadata?.labels?.["capstan.dev/model-version"]).toBe("2");
    expect(rolled.spec?.template.spec?.containers[0]?.args).toEqual(expect.arrayContaining(["users@2"]));
    expect(rolled.metadata?.generation).toBeGreaterThan(first.metadata?.generation ?? 0);
    expect(await store.deployments.get("users-prod")).toMatchObject({ version: 2, previousVersion: 1 });

    await store.deployments.update("users-prod", { replicas: 3 }, 3);
    await controller.pass();
    expect((await apps.readNamespacedDeployment({ name, namespace })).spec?.replicas).toBe(3);

    await store.deployments.update("users-prod", { state: "deleting" }, 4);
    await controller.pass();
    expect(await store.deployments.get("users-prod")).toBeUndefined();
    await eventually("objects deleted", async () => {
      const gone = await Promise.all([
        apps.readNamespacedDeployment({ name, namespace }).then(() => false, () => true),
        core.readNamespacedService({ name, namespace }).then(() => false, () => true),
        core.readNamespacedConfigMap({ name, namespace }).then(() => false, () => true),
      ]);
      return gone.every(Boolean);
    });
  }, 120_000);

  it("fails with a clear message when the cluster names no image", async () => {
    const env = await kubeTestenv();
    const clusters = new KubeClusters(parseClusters(testClusters(env, { cpu: { image: undefined } }), clusterConfigSource(null)), new RequestCounter());
    store = await Store.open({ url: join(tempDir(), "capstan.db") });
    await store.models.ensure("users", "ml", 1);
    await store.models.addVersion({ name: "users", kind: "mar", sha256: "a", artifactPath: "models/users/a.mar", sourcePath: "/x", sizeBytes: 1, runId: null, taskId: null, params: null, metrics: null, createdBy: null, createdAt: 1 });
    await store.models.setAlias("users", "production", 1, 1);
    await store.deployments.insert({ ...row(env.contexts.cpu.namespace), cluster: "cpu", gpus: 0 });
    const controller = new DeploymentController({ store, home: tempDir(), command: [], env: {}, log: { info: () => undefined, warn: () => undefined }, kube: new KubeDeployments(clusters) });
    await controller.pass();
    const failed = await store.deployments.get("users-prod");
    expect(failed?.state).toBe("failed");
    expect(failed?.message).toContain("cluster cpu names no image (clusters.cpu.image in capstan.yaml)");
  }, 60_000);
});
