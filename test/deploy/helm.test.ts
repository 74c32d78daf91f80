/**
 * The Capstan Helm charts (deploy/helm/capstan, deploy/helm/capstan-cluster), with helm built from
 * Go modules: lint, what `helm template` renders (replicas, probes, RBAC per namespace, no
 * cluster-scoped object, security contexts, the config checksum), the rendered capstan.yaml read by
 * Capstan's own loader, bad values refused naming the key, and install/upgrade into the real
 * kube-apiserver of the test control plane.
 */
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig, NetworkingV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config/index.js";
import { clusterConfigSource, parseClusters } from "../../src/executors/kubernetes/kube/cluster-config.js";
import { createHelm, type Helm } from "../support/helm-testenv.js";
import { acquireKubeTestenv, type KubeTestenv } from "../support/kube-testenv.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CHART = join(ROOT, "deploy/helm/capstan");
const CLUSTER_CHART = join(ROOT, "deploy/helm/capstan-cluster");
const TRIAL = ["--set", "postgresql.bundled=true"];
const PRODUCTION = ["--set", "mode=production", "--set", "database.existingSecret=capstan-db"];

/** Kinds that live in a namespace; anything else rendered would be cluster-scoped. */
const NAMESPACED_KINDS = new Set(["ConfigMap", "Deployment", "Ingress", "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount", "StatefulSet"]);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Deployment fields the assertions read (the rest of the manifest is not typed here). */
interface RenderedDeployment {
  spec: {
    replicas: number;
    template: {
      metadata: { annotations: Record<string, string> };
      spec: {
        serviceAccountName: string;
        securityContext: Record<string, unknown>;
        containers: { name: string; env: { name: string }[]; readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } }; securityContext: Record<string, unknown>; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
        volumes: { name: string; emptyDir?: object; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

interface RenderedRole {
  metadata: { namespace: string };
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

let helm: Helm;

beforeAll(async () => {
  helm = await createHelm();
});

async function render(args: string[], chart = CHART): Promise<K8sObject[]> {
  const result = await helm.run(["template", "capstan", chart, "--namespace", "ml-platform", ...args]);
  expect(result.stderr, result.stderr).toBe("");
  expect(result.code).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function one<T>(objects: K8sObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  expect(found.map((o) => o.kind)).toEqual([kind]);
  return found[0] as unknown as T;
}

function configFileOf(objects: K8sObject[]): string {
  const map = one<{ data: Record<string, string> }>(objects, "ConfigMap");
  const text = map.data["capstan.yaml"];
  if (text === undefined) throw new Error("the ConfigMap has no capstan.yaml");
  return text;
}

describe("helm lint", () => {
  it("passes for the platform chart (trial and production values) and the second-cluster chart", async () => {
    for (const args of [TRIAL, PRODUCTION]) {
      const result = await helm.run(["lint", CHART, "--strict", ...args]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    }
    const cluster = await helm.run(["lint", CLUSTER_CHART, "--strict"]);
    expect(cluster.code, cluster.stdout + cluster.stderr).toBe(0);
  });
});

describe("helm template", () => {
  it("renders 2 replicas with health probes, non-root read-only containers and writable /tmp and home", async () => {
    const objects = await render(PRODUCTION);
    const deployment = one<RenderedDeployment>(objects, "Deployment");
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(container?.readinessProbe.httpGet.path).toBe("/api/health");
    expect(container?.livenessProbe.httpGet.path).toBe("/api/health");
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    const mounts = Object.fromEntries((container?.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
    expect(mounts).toMatchObject({ "/tmp": "tmp", "/var/lib/capstan": "home", "/etc/capstan": "config" });
    expect(pod.volumes.find((v) => v.name === "tmp")?.emptyDir).toEqual({});
    expect(container?.env.map((e) => e.name)).toContain("CAPSTAN_DATABASE_URL");
    expect(one<{ spec: { minAvailable: number } }>(objects, "PodDisruptionBudget").spec.minAvailable).toBe(1);
    expect(objects.some((o) => o.kind === "StatefulSet")).toBe(false);
  });

  it("creates only namespaced objects, a Role and RoleBinding per listed namespace with the verbs Capstan uses", async () => {
    const objects = await render([...PRODUCTION, "--set", "rbac.namespaces={ml-batch,ml-gpu}", "--set", "ingress.enabled=true,ingress.host=capstan.example.com,ingress.sandboxHost=*.sbx.example.com,ingress.tlsSecret=capstan-tls"]);
    for (const o of objects) {
      expect(NAMESPACED_KINDS.has(o.kind), `${o.kind} ${o.metadata.name} is cluster-scoped`).toBe(true);
      expect(o.metadata.namespace, `${o.kind} ${o.metadata.name} has no namespace`).toBeTruthy();
    }
    const roles = objects.filter((o) => o.kind === "Role") as unknown as RenderedRole[];
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(["ml-batch", "ml-gpu"]);
    const bindings = objects.filter((o) => o.kind === "RoleBinding");
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(["ml-batch", "ml-gpu"]);
    for (const role of roles) {
      const verbs = Object.fromEntries(role.rules.flatMap((r) => r.resources.map((res) => [`${r.apiGroups[0] ?? ""}/${res}`, r.verbs])));
      expect(verbs).toEqual({
        "/pods": ["get", "list", "watch", "create", "delete"],
        "/pods/log": ["get"],
        "/secrets": ["get", "create", "update", "patch", "delete"],
        "/services": ["get", "create", "delete"],
        "/persistentvolumeclaims": ["get", "create", "delete"],
        "/events": ["list"],
        "/configmaps": ["get", "create", "delete"],
        "apps/deployments": ["get", "create", "update", "delete"],
        "networking.k8s.io/networkpolicies": ["create", "update", "delete"],
      });
    }
    const ingress = one<{ spec: { tls: { secretName: string; hosts: string[] }[]; rules: { host: string }[] } }>(objects, "Ingress");
    expect(ingress.spec.rules.map((r) => r.host)).toEqual(["capstan.example.com", "*.sbx.example.com"]);
    expect(ingress.spec.tls).toEqual([{ secretName: "capstan-tls", hosts: ["capstan.example.com", "*.sbx.example.com"] }]);
  });

  it("changes the pod template's config checksum when a setting changes, and only then", async () => {
    const checksum = async (args: string[]) => one<RenderedDeployment>(await render([...PRODUCTION, ...args]), "Deployment").spec.template.metadata.annotations["checksum/config"];
    const base = await checksum([]);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await checksum(["--set", "replicaCount=3"])).toBe(base);
    expect(await checksum(["--set", "config.pools.gpu.slots=4"])).not.toBe(base);
  });

  it("renders a capstan.yaml that Capstan's own loader and cluster parser accept", async () => {
    const objects = await render([
      ...PRODUCTION,
      "--set", "rbac.namespaces={ml-batch,ml-gpu}",
      "--set", "localCluster.namespace=ml-batch",
      "--set", "ingress.enabled=true,ingress.host=capstan.example.com,ingress.sandboxHost=*.sbx.example.com,ingress.tlsSecret=capstan-tls",
      "--set", "config.pools.gpu.slots=4",
      "--set", "config.clusters.gpu.kubeconfigSecret=gpu-kubeconfig,config.clusters.gpu.namespace=ml-gpu,config.clusters.gpu.gpuResource=nvidia.com/gpu",
      "--set", "config.pipelinesGit.enabled=true,config.pipelinesGit.url=https://git.example.com/ml/pipelines.git,config.pipelinesGit.path=pipelines",
      "--set", "config.pipelinesGit.webhookSecret.name=capstan-git-webhook",
      "--set", "teamVolumes[0].name=vision-data,teamVolumes[0].team=vision,teamVolumes[0].claim=vision-data",
      "--set", "config.sandboxes.defaultProfile=small,config.sandboxes.profiles.small.image=registry.example.com/ml/sandbox:1,config.sandboxes.profiles.small.cpu=2",
      "--set", "config.sandboxes.profiles.small.memory=8Gi,config.sandboxes.profiles.small.volumes={vision-data},config.sandboxes.quotas.default.sandboxes=2",
    ]);
    const dir = mkdtempSync(join(tmpdir(), "capstan-chart-config-"));
    const file = join(dir, "capstan.yaml");
    writeFileSync(file, configFileOf(objects));
    const config = loadConfig({ config: file }, { CAPSTAN_DATABASE_URL: "postgres://capstan:secret@db:5432/capstan", CAPSTAN_GIT_WEBHOOK_SECRET: "s3cret" }, dir);
    expect(config.home).toBe("/var/lib/capstan");
    expect(config.server).toMatchObject({ host: "0.0.0.0", port: 8080, trustedProxies: ["10.0.0.0/8"] });
    expect(config.defaultExecutor).toBe("kubernetes");
    expect(config.databaseUrl).toBe("postgres://capstan:secret@db:5432/capstan");
    expect(config.pools).toEqual({ gpu: { slots: 4 } });
    expect(config.pipelinesGit).toMatchObject({ url: "https://git.example.com/ml/pipelines.git", branch: "main", path: "pipelines", intervalMs: 60_000, webhookSecret: "s3cret" });
    expect(config.sandboxes).toMatchObject({
      origin: "https://{id}.sbx.example.com",
      default_profile: "small",
      profiles: { small: { backend: "kubernetes", cluster: "local", image: "registry.example.com/ml/sandbox:1", cpu: 2, memory: "8Gi", volumes: ["vision-data"] } },
      quotas: { default: { sandboxes: 2 } },
      kubernetes: { capstan_pod_labels: { "app.kubernetes.io/name": "capstan", "app.kubernetes.io/instance": "capstan" }, capstan_namespace_labels: { "kubernetes.io/metadata.name": "ml-platform" } },
    });
    expect(config.volumes).toEqual({ "vision-data": { kind: "pvc", path: "/srv/volumes/vision-data", claim: "vision-data", team: "vision" } });
    const clusters = parseClusters(config.clusters, clusterConfigSource(file, dir));
    expect([...clusters.keys()]).toEqual(["local", "gpu"]);
    const deployment = one<RenderedDeployment>(objects, "Deployment").spec.template.spec;
    const mounts = deployment.containers[0]?.volumeMounts.map((m) => m.mountPath);
    expect(mounts).toEqual(expect.arrayContaining(["/etc/capstan/clusters/gpu", "/srv/volumes/vision-data"]));
    expect(deployment.volumes.find((v) => v.name === "volume-vision-data")?.persistentVolumeClaim?.claimName).toBe("vision-data");
  });

  it("renders the bundled PostgreSQL for a trial, and the second-cluster chart's account, token and Roles", async () => {
    const trial = await render(TRIAL);
    expect(one<{ spec: { replicas: number } }>(trial, "StatefulSet").spec.replicas).toBe(1);
    expect(one<K8sObject>(trial, "Secret").metadata.name).toBe("capstan-postgresql");
    const cluster = await render(["--set", "namespaces={gpu-a,gpu-b}"], CLUSTER_CHART);
    const platformRules = (one<RenderedRole>(await render(PRODUCTION), "Role")).rules;
    for (const role of cluster.filter((o) => o.kind === "Role") as unknown as RenderedRole[]) expect(role.rules).toEqual(platformRules);
    expect(cluster.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}`).sort()).toEqual([
      "Role/gpu-a", "Role/gpu-b", "RoleBinding/gpu-a", "RoleBinding/gpu-b", "Secret/ml-platform", "ServiceAccount/ml-platform",
    ]);
  });
});

describe("bad values", () => {
  const refused = async (args: string[], chart = CHART) => {
    const result = await helm.run(["template", "capstan", chart, ...args]);
    expect(result.code).not.toBe(0);
    return result.stderr;
  };

  it("name the unknown key, the wrong type and what production mode requires", async () => {
    expect(await refused([...TRIAL, "--set", "replicas=3"])).toMatch(/additional properties? 'replicas' not allowed/i);
    expect(await refused([...TRIAL, "--set", "ingress.hostname=x"])).toMatch(/ingress.*'hostname' not allowed/is);
    expect(await refused([...TRIAL, "--set-string", "replicaCount=two"])).toMatch(/replicaCount.*(integer|string)/is);
    expect(await refused([...TRIAL, "--set", "podSecurityContext.runAsNonRoot=false"])).toMatch(/runAsNonRoot/);
    expect(await refused(["--set", "mode=production"])).toMatch(/database\.existingSecret: production mode needs/);
    expect(await refused(["--set", "mode=production,postgresql.bundled=true"])).toMatch(/postgresql\.bundled: production mode needs an external PostgreSQL/);
    expect(await refused([])).toMatch(/database\.existingSecret: name the Secret/);
    expect(await refused([...TRIAL, "--set", "config.pipelinesGit.enabled=true"])).toMatch(/config\.pipelinesGit\.url/);
    expect(await refused(["--set", "namespace=x"], CLUSTER_CHART)).toMatch(/'namespace' not allowed/);
  });
});

describe("install into the test control plane", () => {
  let kube: KubeTestenv;
  let namespace: string;
  let taskNamespace: string;

  beforeAll(async () => {
    kube = await acquireKubeTestenv();
    const suffix = randomBytes(3).toString("hex");
    namespace = `helm-platform-${suffix}`;
    taskNamespace = `helm-tasks-${suffix}`;
    const core = client(CoreV1Api);
    for (const name of [namespace, taskNamespace]) await core.createNamespace({ body: { metadata: { name } } });
  });

  afterAll(async () => {
    const core = client(CoreV1Api);
    for (const name of [namespace, taskNamespace]) await core.deleteNamespace({ name }).catch(() => undefined);
    await kube.stop();
  });

  function client<T>(api: new (...args: never[]) => T): T {
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfigPath);
    return config.makeApiClient(api as never) as T;
  }

  it("installs objects the API server accepts, only in the namespaces named, and an upgrade rolls the pod template", async () => {
    const values = [
      ...PRODUCTION,
      "--set", `rbac.namespaces={${namespace},${taskNamespace}}`,
      "--set", "ingress.enabled=true,ingress.host=capstan.example.com,ingress.sandboxHost=*.sbx.example.com,ingress.tlsSecret=capstan-tls",
      "--set", "config.clusters.gpu.kubeconfigSecret=gpu-kubeconfig,teamVolumes[0].name=vision-data,teamVolumes[0].team=vision,teamVolumes[0].claim=vision-data",
    ];
    const install = await helm.run(["install", "capstan", CHART, "--namespace", namespace, ...values], { kubeconfig: kube.kubeconfigPath });
    expect(install.code, install.stderr).toBe(0);

    const apps = client(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: "capstan", namespace });
    expect(deployment.spec?.replicas).toBe(2);
    const container = deployment.spec?.template.spec?.containers[0];
    expect(container?.readinessProbe?.httpGet?.path).toBe("/api/health");
    expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(deployment.spec?.template.spec?.securityContext?.runAsNonRoot).toBe(true);

    expect(deployment.spec?.template.spec?.volumes?.map((v) => v.name)).toEqual(["config", "home", "tmp", "cluster-gpu", "volume-vision-data"]);
    const ingress = await client(NetworkingV1Api).readNamespacedIngress({ name: "capstan", namespace });
    expect(ingress.spec?.rules?.map((r) => r.host)).toEqual(["capstan.example.com", "*.sbx.example.com"]);

    const rbac = client(RbacAuthorizationV1Api);
    for (const ns of [namespace, taskNamespace]) {
      const role = await rbac.readNamespacedRole({ name: "capstan", namespace: ns });
      expect(role.rules?.find((r) => r.resources?.includes("pods/log"))?.verbs).toEqual(["get"]);
      const binding = await rbac.readNamespacedRoleBinding({ name: "capstan", namespace: ns });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "capstan", namespace }]);
    }
    const selector = "app.kubernetes.io/instance=capstan";
    expect((await rbac.listClusterRole({ labelSelector: selector })).items).toEqual([]);
    expect((await rbac.listClusterRoleBinding({ labelSelector: selector })).items).toEqual([]);

    // What the API server's RBAC authorizer lets the platform's ServiceAccount do.
    const user = `system:serviceaccount:${namespace}:capstan`;
    const allowed = async (verb: string, resource: string, ns?: string, group = "") => {
      const review = await client(AuthorizationV1Api).createSubjectAccessReview({
        body: { spec: { user, groups: ["system:serviceaccounts", "system:authenticated"], resourceAttributes: { verb, resource, group, ...(ns === undefined ? {} : { namespace: ns }) } } },
      });
      return review.status?.allowed === true;
    };
    expect(await allowed("create", "pods", taskNamespace)).toBe(true);
    expect(await allowed("update", "deployments", taskNamespace, "apps")).toBe(true);
    expect(await allowed("create", "pods", "default")).toBe(false);
    expect(await allowed("list", "nodes")).toBe(false);
    expect(await allowed("list", "pods")).toBe(false);
    expect(await allowed("create", "clusterroles", undefined, "rbac.authorization.k8s.io")).toBe(false);

    const before = deployment.spec?.template.metadata?.annotations?.["checksum/config"];
    const upgrade = await helm.run(["upgrade", "capstan", CHART, "--namespace", namespace, ...values, "--set", "config.pools.gpu.slots=2"], { kubeconfig: kube.kubeconfigPath });
    expect(upgrade.code, upgrade.stderr).toBe(0);
    const after = await apps.readNamespacedDeployment({ name: "capstan", namespace });
    expect(after.spec?.template.metadata?.annotations?.["checksum/config"]).not.toBe(before);
    expect(after.metadata?.generation).toBeGreaterThan(deployment.metadata?.generation ?? 0);
    const config = await client(CoreV1Api).readNamespacedConfigMap({ name: "capstan-config", namespace });
    expect(config.data?.["capstan.yaml"]).toContain('"gpu": {"slots":2}');

    const uninstall = await helm.run(["uninstall", "capstan", "--namespace", namespace], { kubeconfig: kube.kubeconfigPath });
    expect(uninstall.code, uninstall.stderr).toBe(0);
  });

  it("installs a trial with the bundled PostgreSQL whose generated password survives an upgrade", async () => {
    const install = await helm.run(["install", "trial", CHART, "--namespace", taskNamespace, ...TRIAL], { kubeconfig: kube.kubeconfigPath });
    expect(install.code, install.stderr).toBe(0);
    const statefulSet = await client(AppsV1Api).readNamespacedStatefulSet({ name: "trial-capstan-postgresql", namespace: taskNamespace });
    expect(statefulSet.spec?.template.spec?.securityContext?.runAsNonRoot).toBe(true);
    const core = client(CoreV1Api);
    const password = (await core.readNamespacedSecret({ name: "trial-capstan-postgresql", namespace: taskNamespace })).data?.password;
    expect(Buffer.from(password ?? "", "base64").toString()).toMatch(/^[A-Za-z0-9]{32}$/);
    const upgrade = await helm.run(["upgrade", "trial", CHART, "--namespace", taskNamespace, ...TRIAL, "--set", "replicaCount=3"], { kubeconfig: kube.kubeconfigPath });
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect((await core.readNamespacedSecret({ name: "trial-capstan-postgresql", namespace: taskNamespace })).data?.password).toBe(password);
    expect((await client(AppsV1Api).readNamespacedDeployment({ name: "trial-capstan", namespace: taskNamespace })).spec?.replicas).toBe(3);
  });

  it("installs the second-cluster chart: its account, token Secret and Roles", async () => {
    const install = await helm.run(["install", "gpu", CLUSTER_CHART, "--namespace", namespace, "--set", `namespaces={${taskNamespace}}`], { kubeconfig: kube.kubeconfigPath });
    expect(install.code, install.stderr).toBe(0);
    const token = await client(CoreV1Api).readNamespacedSecret({ name: "capstan-token", namespace });
    expect(token.type).toBe("kubernetes.io/service-account-token");
    expect(token.metadata?.annotations?.["kubernetes.io/service-account.name"]).toBe("capstan");
    const binding = await client(RbacAuthorizationV1Api).readNamespacedRoleBinding({ name: "capstan", namespace: taskNamespace });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "capstan", namespace }]);
  });
});
