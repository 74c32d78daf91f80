/** The objects of a Kubernetes sandbox, built without a cluster: names, labels, resources, GPUs, template, policy and the SSH endpoint. */
import { describe, expect, it } from "vitest";
import { clusterConfigSource, parseClusters } from "../../executors/kubernetes/kube/index.js";
import { resolveSandboxSettings } from "../profiles.js";
import { buildSandboxManifests, sandboxObjectNames, sandboxSshEndpoint } from "./sandbox-manifests.js";

const cluster = parseClusters(
  { gpu: { kubeconfig: "/nonexistent", gpu_resource: "example.com/gpu", gpu_tolerations: [{ key: "gpu", operator: "Exists" }], gpu_node_selector: { gpu: "yes" }, image_pull_secrets: ["pull"] } },
  clusterConfigSource(null),
).get("gpu")!;
const settings = resolveSandboxSettings({ profiles: { train: { backend: "kubernetes", image: "registry.example/sbx:1", cpu: "500m", gpu: 1, volumes: ["data"] } } });
const profile = settings.profiles.get("train")!;
const launch = { id: "sabcdefghijklmnop", owner: "Ann.O'Neil@example.com", team: "ML team", name: "lab", profile, token: "secret-token" };

describe("sandbox manifests", () => {
  it("names every object by the sandbox id alone", () => {
    expect(sandboxObjectNames("sabcdefghijklmnop")).toEqual({
      pod: "sandbox-sabcdefghijklmnop",
      home: "sandbox-sabcdefghijklmnop-home",
      service: "sandbox-sabcdefghijklmnop",
      policy: "sandbox-sabcdefghijklmnop",
      secret: "sandbox-sabcdefghijklmnop-token",
    });
  });

  it("reaches the sandbox's sshd through its Service on 2222, as the image's user, where the NetworkPolicy admits only Capstan", () => {
    const names = sandboxObjectNames("sabcdefghijklmnop");
    expect(sandboxSshEndpoint(names, "ns")).toEqual({ host: "sandbox-sabcdefghijklmnop.ns.svc", port: 2222, user: "sandbox" });
    const m = buildSandboxManifests({ launch, cluster, namespace: "ns", sharedClaims: [], homeStorageClass: undefined, homeSize: "10Gi", capstan: { podLabels: { app: "capstan" } }, template: undefined });
    expect(m.service.spec?.ports).toContainEqual({ name: "ssh", port: 2222, targetPort: 2222 });
    expect(m.policy.spec?.ingress?.[0]?.ports).toContainEqual({ protocol: "TCP", port: 2222 });
  });

  it("keeps exact owner and team in annotations, label-safe values in labels, and the token only in the Secret", () => {
    const m = buildSandboxManifests({ launch, cluster, namespace: "ns", sharedClaims: ["capstan-ml-team-data"], homeStorageClass: undefined, homeSize: "10Gi", capstan: { podLabels: { app: "capstan" } }, template: undefined });
    expect(m.pod.metadata?.labels?.["capstan.dev/sandbox"]).toBe(launch.id);
    expect(m.pod.metadata?.labels?.["capstan.dev/sandbox-owner"]).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]$/);
    expect(m.pod.metadata?.annotations).toMatchObject({ "capstan.dev/sandbox-owner": launch.owner, "capstan.dev/sandbox-team": launch.team, "capstan.dev/sandbox-name": "lab" });
    expect(JSON.stringify(m.pod)).not.toContain("secret-token");
    expect(m.secret.stringData).toEqual({ token: "secret-token" });
    expect(m.home.spec).not.toHaveProperty("storageClassName");
  });

  it("asks for the profile's CPU and GPUs with the cluster's GPU resource, tolerations and node selector", () => {
    const m = buildSandboxManifests({ launch, cluster, namespace: "ns", sharedClaims: ["c"], homeStorageClass: "fast", homeSize: "5Gi", capstan: { podLabels: { app: "capstan" } }, template: undefined });
    const container = m.pod.spec!.containers[0]!;
    expect(container.resources?.limits).toEqual({ cpu: "500m", "example.com/gpu": "1" });
    expect(m.pod.spec?.tolerations).toEqual([{ key: "gpu", operator: "Exists" }]);
    expect(m.pod.spec?.nodeSelector).toEqual({ gpu: "yes" });
    expect(m.pod.spec?.imagePullSecrets).toEqual([{ name: "pull" }]);
    expect(m.home.spec).toMatchObject({ storageClassName: "fast", accessModes: ["ReadWriteOnce"] });
  });

  it("starts from the cluster's pod template but keeps the sandbox's own container, labels and safety settings", () => {
    const template = { metadata: { labels: { team: "platform", "capstan.dev/sandbox": "other" } }, spec: { automountServiceAccountToken: true, containers: [{ name: "sidecar", image: "sidecar:1" }] } };
    const m = buildSandboxManifests({ launch, cluster, namespace: "ns", sharedClaims: ["c"], homeStorageClass: undefined, homeSize: "5Gi", capstan: { podLabels: { app: "capstan" }, namespaceLabels: { name: "capstan" } }, template });
    expect(m.pod.metadata?.labels).toMatchObject({ team: "platform", "capstan.dev/sandbox": launch.id });
    expect(m.pod.spec?.automountServiceAccountToken).toBe(false);
    expect(m.pod.spec?.containers.map((c) => c.name)).toEqual(["sandbox", "sidecar"]);
    expect(m.policy.spec?.ingress?.[0]?._from).toEqual([{ podSelector: { matchLabels: { app: "capstan" } }, namespaceSelector: { matchLabels: { name: "capstan" } } }]);
  });
});
