/**
 * The Kubernetes sandbox backend on the test control plane, beyond the shared contract: the objects
 * a sandbox gets (names, labels, resources, the RWO home with its storage class, the team's RWX
 * claims, the Service, the NetworkPolicy that admits only Capstan, no cluster credential in the
 * pod, the sshd endpoint for the owner's SSH tunnel), GPUs on the GPU cluster, and the failure reasons the cluster gives (unschedulable, quota, a
 * missing team volume, a pod deleted under a running sandbox).
 */
import { NetworkingV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../kube/executor/kube-harness.js";
import { createTeamClaim, homeClaim, openKubeSandboxWorld, sandboxPod, GPU_SANDBOX_NAMESPACE, SANDBOX_NAMESPACE, type KubeSandboxWorld } from "./kube-sandbox-world.js";

let world: KubeSandboxWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

function networking(w: KubeSandboxWorld): NetworkingV1Api {
  const config = new KubeConfig();
  config.loadFromFile(w.env.kubeconfigPath);
  return config.makeApiClient(NetworkingV1Api);
}

describe("kubernetes sandbox backend", () => {
  it("gives a sandbox a pod, an RWO home, the team's RWX claims, a Service and a NetworkPolicy, named by its id and labelled capstan.dev/sandbox", async () => {
    world = await openKubeSandboxWorld({ config: { profiles: { big: { cpu: "2", memory: "4Gi", volumes: ["data", { name: "models", path: "work/models" }] } } } });
    await createTeamClaim(world.kube, SANDBOX_NAMESPACE, "capstan-ml-data");
    await createTeamClaim(world.kube, SANDBOX_NAMESPACE, "capstan-ml-models");
    const ann = await world.user("ann", { ml: "editor" });
    const { id } = await world.service.create(ann, { name: "lab" });
    expect((await world.service.start(ann, id)).state).toBe("running");
    const name = `sandbox-${id}`;

    const pod = (await sandboxPod(world.kube, id))!;
    expect(pod.metadata?.labels).toMatchObject({ "capstan.dev/sandbox": id, "capstan.dev/sandbox-owner": "ann", "capstan.dev/sandbox-team": "ml", "capstan.dev/managed-by": "capstan-sandboxes" });
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    const container = pod.spec!.containers[0]!;
    expect(container.image).toBe("registry.example/capstan/task:1");
    expect(container.resources).toEqual({ requests: { cpu: "2", memory: "4294967296" }, limits: { cpu: "2", memory: "4294967296" } });
    expect(container.volumeMounts).toEqual([
      { name: "home", mountPath: "/home/sandbox" },
      { name: "shared-0", mountPath: "/home/sandbox/shared/data" },
      { name: "shared-1", mountPath: "/home/sandbox/work/models" },
    ]);
    expect(pod.spec?.volumes?.map((v) => v.persistentVolumeClaim?.claimName)).toEqual([`${name}-home`, "capstan-ml-data", "capstan-ml-models"]);
    const token = (await world.service.target(id))!.token;
    expect(JSON.stringify(pod)).not.toContain(token);
    const secret = await world.kube.readNamespacedSecret({ namespace: SANDBOX_NAMESPACE, name: `${name}-token` });
    expect(Buffer.from(secret.data?.token ?? "", "base64").toString()).toBe(token);

    const home = (await homeClaim(world.kube, id))!;
    expect(home.spec).toMatchObject({ accessModes: ["ReadWriteOnce"], storageClassName: "capstan-test-rwo", resources: { requests: { storage: "2Gi" } } });
    const service = await world.kube.readNamespacedService({ namespace: SANDBOX_NAMESPACE, name });
    expect(service.spec?.selector).toEqual({ "capstan.dev/sandbox": id });
    expect(service.spec?.ports?.map((p) => p.port)).toEqual([8888, 2222]);
    expect((await world.service.target(id))!.upstream).toBe(`http://${name}.${SANDBOX_NAMESPACE}.svc:8888/`);
    // The SSH tunnel reaches the image's sshd through the Service, for the owner only.
    expect(await world.service.sshEndpoint(ann, id)).toEqual({ name: "lab", host: `${name}.${SANDBOX_NAMESPACE}.svc`, port: 2222, user: "sandbox" });
    const bea = await world.user("bea", { ml: "editor" });
    await expect(world.service.sshEndpoint(bea, id)).rejects.toMatchObject({ kind: "not_found" });
    const policy = await networking(world).readNamespacedNetworkPolicy({ namespace: SANDBOX_NAMESPACE, name });
    expect(policy.spec).toMatchObject({
      podSelector: { matchLabels: { "capstan.dev/sandbox": id } },
      policyTypes: ["Ingress"],
      ingress: [{ _from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "capstan" } } }] }],
    });

    await world.service.stop(ann, id);
    expect(await sandboxPod(world.kube, id)).toBeUndefined();
    await expect(world.kube.readNamespacedService({ namespace: SANDBOX_NAMESPACE, name })).rejects.toMatchObject({ code: 404 });
    await expect(world.kube.readNamespacedSecret({ namespace: SANDBOX_NAMESPACE, name: `${name}-token` })).rejects.toMatchObject({ code: 404 });
    expect(await homeClaim(world.kube, id)).toBeDefined();
  });

  it("asks for GPUs on the profile's GPU cluster, with its tolerations and node selector", async () => {
    world = await openKubeSandboxWorld({ config: { profiles: { gpu: { gpu: 2, cluster: "gpu" } } } });
    const ann = await world.user("ann", { ml: "editor" });
    const { id } = await world.service.create(ann, { name: "train" });
    expect(await world.service.start(ann, id)).toMatchObject({ state: "running", gpus: 2 });
    const pod = (await sandboxPod(world.kube, id, GPU_SANDBOX_NAMESPACE))!;
    expect(pod.spec?.nodeName).toBe("kwok-gpu");
    expect(pod.spec?.containers[0]?.resources?.limits).toEqual({ "nvidia.com/gpu": "2" });
    expect(pod.spec?.nodeSelector).toEqual({ "nvidia.com/gpu.present": "true" });
    expect(pod.spec?.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
    expect(await homeClaim(world.kube, id, GPU_SANDBOX_NAMESPACE)).toBeDefined();
  });

  it("fails as unschedulable when no node fits (a GPU profile on a cluster without GPU placement), leaving no pod and the home", async () => {
    world = await openKubeSandboxWorld({ config: { profiles: { gpu: { gpu: 1, cluster: "cpu" } } } });
    const ann = await world.user("ann", { ml: "editor" });
    const { id } = await world.service.create(ann, { name: "train" });
    const failed = await world.service.start(ann, id);
    expect(failed.state).toBe("failed");
    expect(failed.reason).toMatch(/^unschedulable: no node of cluster cpu fits the sandbox: 0\/2 nodes are available/);
    expect(failed.reason).toContain("nvidia.com/gpu");
    expect(await sandboxPod(world.kube, id)).toBeUndefined();
    expect(await homeClaim(world.kube, id)).toBeDefined();
  });

  it("fails with quota when the namespace's ResourceQuota refuses the pod", async () => {
    const namespace = "capstan-sbx-quota";
    world = await openKubeSandboxWorld({ config: { profiles: { tight: { namespace } } }, namespaces: [namespace] });
    await world.kube.createNamespace({ body: { metadata: { name: namespace } } }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
    const quota = { metadata: { name: "no-pods", namespace }, spec: { hard: { pods: "0" } } };
    await world.kube.createNamespacedResourceQuota({ namespace, body: quota }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
    // No quota controller runs on the test plane: write the usage it would.
    const current = await world.kube.readNamespacedResourceQuota({ namespace, name: "no-pods" });
    current.status = { hard: { pods: "0" }, used: { pods: "0" } };
    await world.kube.replaceNamespacedResourceQuotaStatus({ namespace, name: "no-pods", body: current });
    const ann = await world.user("ann", { ml: "editor" });
    const { id } = await world.service.create(ann, { name: "lab" });
    const failed = await world.service.start(ann, id);
    expect(failed.state).toBe("failed");
    expect(failed.reason).toMatch(/^quota: the ResourceQuota of cluster cpu, namespace capstan-sbx-quota refuses the sandbox: .*exceeded quota: no-pods/);
    await world.kube.deleteNamespacedPersistentVolumeClaim({ namespace, name: `sandbox-${id}-home` }).catch(() => undefined);
  });

  it("fails naming the team volume whose claim does not exist", async () => {
    world = await openKubeSandboxWorld({ config: { profiles: { shared: { volumes: ["nowhere"] } } } });
    const ann = await world.user("ann", { ml: "editor" });
    const { id } = await world.service.create(ann, { name: "lab" });
    const failed = await world.service.start(ann, id);
    expect(failed.reason).toBe(`unschedulable: team volume nowhere has no PersistentVolumeClaim capstan-ml-nowhere in cluster cpu, namespace ${SANDBOX_NAMESPACE}; an admin creates it (ReadWriteMany) before sandboxes mount it`);
    expect(await sandboxPod(world.kube, id)).toBeUndefined();
  });

  it("records a running sandbox whose pod someone deleted as failed", async () => {
    world = await openKubeSandboxWorld();
    const ann = await world.user("ann", { ml: "editor" });
    const { id } = await world.service.create(ann, { name: "lab" });
    await world.service.start(ann, id);
    await world.kube.deleteNamespacedPod({ namespace: SANDBOX_NAMESPACE, name: `sandbox-${id}`, gracePeriodSeconds: 0 });
    const failed = await eventually("failed", async () => {
      const view = await world!.service.get(ann, id);
      return view.state === "failed" ? view : undefined;
    });
    expect(failed.reason).toBe("crash: its pod was deleted");
    expect(await homeClaim(world.kube, id)).toBeDefined();
  });
});
