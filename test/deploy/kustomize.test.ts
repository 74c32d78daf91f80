/**
 * The kustomize manifests (deploy/kustomize: base, overlays production and gpu-cluster), built with
 * kustomize's own library (scripts/kustomize-testenv): the objects match what the Helm charts render
 * for the same settings (replicas, probes, security contexts, the PDB, RBAC rules per namespace, no
 * cluster-scoped object), the overlay's capstan.yaml is read by Capstan's own loader into the same
 * configuration as the chart's, a config change renames the ConfigMap (which rolls the pods), an
 * unknown kustomization field is refused by name, and the output is applied to the real
 * kube-apiserver of the test control plane.
 */
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig, type CapstanConfig } from "../../src/config/index.js";
import { createHelm, type Helm } from "../support/helm-testenv.js";
import { acquireKubeTestenv, type KubeTestenv } from "../support/kube-testenv.js";
import { kustomizeBuild } from "../support/kustomize-testenv.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const KUSTOMIZE = join(ROOT, "deploy/kustomize");
const PRODUCTION = join(KUSTOMIZE, "overlays/production");
const GPU_CLUSTER = join(KUSTOMIZE, "overlays/gpu-cluster");
/** The chart values the production overlay stands for (its kustomization.yaml says so too). */
const CHART_PRODUCTION = [
  "--namespace", "ml-platform",
  "--set", "mode=production,database.existingSecret=capstan-db",
  "--set", "rbac.namespaces={ml-platform,ml-batch},localCluster.namespace=ml-batch",
  "--set", "ingress.enabled=true,ingress.host=capstan.example.com,ingress.sandboxHost=*.sbx.example.com,ingress.tlsSecret=capstan-tls",
];

/** Kinds that live in a namespace; anything else built would be cluster-scoped. */
const NAMESPACED_KINDS = new Set(["ConfigMap", "Deployment", "Ingress", "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount"]);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    serviceAccountName: string;
    securityContext: Record<string, unknown>;
    containers: Record<string, unknown>[];
    volumes: { name: string; configMap?: { name: string } }[];
  };
}

interface DeploymentShape {
  spec: { replicas: number; strategy: unknown; selector: unknown; template: PodTemplate };
}

interface RoleShape {
  metadata: { name: string; namespace: string };
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

interface RoleBindingShape {
  metadata: { namespace: string };
  roleRef: unknown;
  subjects: unknown[];
}

let helm: Helm;

beforeAll(async () => {
  helm = await createHelm();
});

function parse(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

async function build(dir: string): Promise<K8sObject[]> {
  const result = await kustomizeBuild(dir);
  expect(result.stderr, result.stderr).toBe("");
  expect(result.code).toBe(0);
  return parse(result.stdout);
}

async function renderChart(chart: string, args: string[]): Promise<K8sObject[]> {
  const result = await helm.run(["template", "capstan", join(ROOT, "deploy/helm", chart), ...args]);
  expect(result.code, result.stderr).toBe(0);
  return parse(result.stdout);
}

function all<T>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

function one<T>(objects: K8sObject[], kind: string): T {
  const found = all<T>(objects, kind);
  expect(found.length, `one ${kind}`).toBe(1);
  return found[0] as T;
}

/** kind/namespace/name of each object, sorted. */
function ids(objects: K8sObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`).sort();
}

/** A pod template without what differs by design: the ConfigMap's name and the checksum annotation. */
function comparablePod(template: PodTemplate): unknown {
  const { spec } = template;
  return {
    labels: template.metadata.labels,
    spec: { ...spec, volumes: spec.volumes.map((v) => (v.configMap ? { ...v, configMap: { ...v.configMap, name: "capstan-config" } } : v)) },
  };
}

function loadConfigText(text: string): CapstanConfig {
  const dir = mkdtempSync(join(tmpdir(), "capstan-kustomize-config-"));
  const file = join(dir, "capstan.yaml");
  writeFileSync(file, text);
  return loadConfig({ config: file }, { CAPSTAN_DATABASE_URL: "postgres://capstan:secret@db:5432/capstan" }, dir);
}

function configTextOf(objects: K8sObject[]): string {
  const text = one<{ data: Record<string, string> }>(objects, "ConfigMap").data["capstan.yaml"];
  if (text === undefined) throw new Error("the ConfigMap has no capstan.yaml");
  return text;
}

describe("kustomize build", () => {
  it("builds the production overlay: 2 replicas, health probes, non-root read-only pods, a PDB, only namespaced objects", async () => {
    const objects = await build(PRODUCTION);
    for (const o of objects) {
      expect(NAMESPACED_KINDS.has(o.kind), `${o.kind} ${o.metadata.name} is cluster-scoped`).toBe(true);
      expect(o.metadata.namespace, `${o.kind} ${o.metadata.name} has no namespace`).toMatch(/^ml-(platform|batch)$/);
    }
    const deployment = one<DeploymentShape>(objects, "Deployment");
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0] as { readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } }; securityContext: unknown };
    expect(container.readinessProbe.httpGet.path).toBe("/api/health");
    expect(container.livenessProbe.httpGet.path).toBe("/api/health");
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(one<{ spec: { minAvailable: number } }>(objects, "PodDisruptionBudget").spec.minAvailable).toBe(1);
    // The generated ConfigMap's name carries a content hash, and the pod mounts that name.
    const configMap = one<K8sObject>(objects, "ConfigMap");
    expect(configMap.metadata.name).toMatch(/^capstan-config-[a-z0-9]{10}$/);
    expect(pod.volumes.find((v) => v.name === "config")?.configMap?.name).toBe(configMap.metadata.name);
  });

  it("renders the same objects as the chart with the equivalent values: pod spec, Service, PDB, Ingress, Roles and bindings per namespace", async () => {
    const built = await build(PRODUCTION);
    const chart = await renderChart("capstan", CHART_PRODUCTION);
    const rename = (o: K8sObject) => (o.kind === "ConfigMap" ? { ...o, metadata: { ...o.metadata, name: "capstan-config" } } : o);
    expect(ids(built.map(rename))).toEqual(ids(chart));
    const builtDeployment = one<DeploymentShape>(built, "Deployment");
    const chartDeployment = one<DeploymentShape>(chart, "Deployment");
    expect(comparablePod(builtDeployment.spec.template)).toEqual(comparablePod(chartDeployment.spec.template));
    expect(builtDeployment.spec.strategy).toEqual(chartDeployment.spec.strategy);
    expect(builtDeployment.spec.selector).toEqual(chartDeployment.spec.selector);
    for (const kind of ["Service", "PodDisruptionBudget", "Ingress"]) {
      expect(one<{ spec: unknown }>(built, kind).spec, kind).toEqual(one<{ spec: unknown }>(chart, kind).spec);
    }
    const rolesBy = (objects: K8sObject[]) => Object.fromEntries(all<RoleShape>(objects, "Role").map((r) => [r.metadata.namespace, r.rules]));
    expect(Object.keys(rolesBy(built)).sort()).toEqual(["ml-batch", "ml-platform"]);
    expect(rolesBy(built)).toEqual(rolesBy(chart));
    const bindingsBy = (objects: K8sObject[]) => Object.fromEntries(all<RoleBindingShape>(objects, "RoleBinding").map((b) => [b.metadata.namespace, { roleRef: b.roleRef, subjects: b.subjects }]));
    expect(bindingsBy(built)).toEqual(bindingsBy(chart));
    expect(all<RoleBindingShape>(built, "RoleBinding").flatMap((b) => b.subjects)).toEqual([
      { kind: "ServiceAccount", name: "capstan", namespace: "ml-platform" },
      { kind: "ServiceAccount", name: "capstan", namespace: "ml-platform" },
    ]);
  });

  it("has a capstan.yaml that Capstan's own loader reads into the same configuration as the chart's", async () => {
    const built = loadConfigText(configTextOf(await build(PRODUCTION)));
    const chart = loadConfigText(configTextOf(await renderChart("capstan", CHART_PRODUCTION)));
    expect(built.defaultExecutor).toBe("kubernetes");
    expect(built.databaseUrl).toBe("postgres://capstan:secret@db:5432/capstan");
    expect(built.server).toMatchObject({ host: "0.0.0.0", port: 8080 });
    expect({ ...built, file: chart.file }).toEqual(chart);
  });

  it("builds the gpu-cluster overlay: the second-cluster chart's account, token Secret, Role and binding", async () => {
    const built = await build(GPU_CLUSTER);
    const chart = await renderChart("capstan-cluster", ["--namespace", "ml-gpu"]);
    expect(ids(built)).toEqual(ids(chart));
    expect(ids(built)).toEqual(["Role/ml-gpu/capstan", "RoleBinding/ml-gpu/capstan", "Secret/ml-gpu/capstan-token", "ServiceAccount/ml-gpu/capstan"]);
    expect(one<RoleShape>(built, "Role").rules).toEqual(one<RoleShape>(chart, "Role").rules);
    expect(one<RoleBindingShape>(built, "RoleBinding").subjects).toEqual([{ kind: "ServiceAccount", name: "capstan", namespace: "ml-gpu" }]);
    const token = one<K8sObject & { type: string }>(built, "Secret");
    expect(token.type).toBe("kubernetes.io/service-account-token");
    expect(token.metadata.annotations?.["kubernetes.io/service-account.name"]).toBe("capstan");
    // The platform's Roles and the second cluster's carry the same rules.
    expect(one<RoleShape>(built, "Role").rules).toEqual(all<RoleShape>(await build(PRODUCTION), "Role")[0]?.rules);
  });

  it("renames the ConfigMap when capstan.yaml changes, and only then, so the pods roll", async () => {
    const overlay = (config: string | undefined) => {
      const dir = mkdtempSync(join(tmpdir(), "capstan-kustomize-overlay-"));
      const lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "namespace: ml-platform", `resources: [${relative(dir, join(KUSTOMIZE, "base"))}]`];
      if (config !== undefined) {
        writeFileSync(join(dir, "capstan.yaml"), config);
        lines.push("configMapGenerator:", "  - { name: capstan-config, behavior: replace, files: [capstan.yaml] }");
      }
      writeFileSync(join(dir, "kustomization.yaml"), `${lines.join("\n")}\n`);
      return dir;
    };
    const configName = async (dir: string) => one<K8sObject>(await build(dir), "ConfigMap").metadata.name;
    const base = await configName(overlay(undefined));
    const baseText = configTextOf(await build(join(KUSTOMIZE, "base")));
    expect(await configName(overlay(baseText))).toBe(base);
    expect(await configName(overlay(`${baseText}pools:\n  gpu: { slots: 4 }\n`))).not.toBe(base);
  });

  it("refuses a kustomization with an unknown field, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-kustomize-bad-"));
    writeFileSync(join(dir, "kustomization.yaml"), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${relative(dir, join(KUSTOMIZE, "base"))}]\nreplicaCount: 3\n`);
    const result = await kustomizeBuild(dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown field "replicaCount"/);
    mkdirSync(join(dir, "missing"));
    const missing = await kustomizeBuild(join(dir, "missing"));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/kustomization/i);
  });
});

describe("apply into the test control plane", () => {
  let kube: KubeTestenv;
  const suffix = randomBytes(3).toString("hex");
  // The overlays name fixed namespaces; here each becomes a fresh one so runs never collide.
  const namespaces: Record<string, string> = { "ml-platform": `kz-platform-${suffix}`, "ml-batch": `kz-batch-${suffix}`, "ml-gpu": `kz-gpu-${suffix}` };

  beforeAll(async () => {
    kube = await acquireKubeTestenv();
    for (const name of Object.values(namespaces)) await client(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  });

  afterAll(async () => {
    for (const name of Object.values(namespaces)) await client(CoreV1Api).deleteNamespace({ name }).catch(() => undefined);
    await kube.stop();
  });

  function kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfigPath);
    return config;
  }

  function client<T>(api: new (...args: never[]) => T): T {
    return kubeConfig().makeApiClient(api as never) as T;
  }

  /** The built objects with their namespaces (and RoleBinding subjects' namespaces) mapped to this run's. */
  function inTestNamespaces(objects: K8sObject[]): K8sObject[] {
    const map = (ns: string | undefined) => (ns === undefined ? undefined : (namespaces[ns] ?? ns));
    return objects.map((o) => {
      const copy = structuredClone(o);
      copy.metadata.namespace = map(o.metadata.namespace);
      if (o.kind === "RoleBinding") for (const s of (copy as unknown as RoleBindingShape).subjects as { namespace?: string }[]) s.namespace = map(s.namespace);
      return copy;
    });
  }

  async function apply(objects: K8sObject[]): Promise<void> {
    const api = KubernetesObjectApi.makeApiClient(kubeConfig());
    for (const o of objects) await api.patch(o, undefined, undefined, "capstan-kustomize-test", true, PatchStrategy.ServerSideApply);
  }

  it("applies the production and gpu-cluster overlays server-side; the ServiceAccounts get exactly the namespaced rights", async () => {
    await apply(inTestNamespaces([...(await build(PRODUCTION)), ...(await build(GPU_CLUSTER))]));
    const platform = namespaces["ml-platform"] ?? "";
    const batch = namespaces["ml-batch"] ?? "";
    const gpu = namespaces["ml-gpu"] ?? "";

    const deployment = await client(AppsV1Api).readNamespacedDeployment({ name: "capstan", namespace: platform });
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.template.spec?.containers[0]?.readinessProbe?.httpGet?.path).toBe("/api/health");
    expect(deployment.spec?.template.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    const configName = deployment.spec?.template.spec?.volumes?.find((v) => v.name === "config")?.configMap?.name ?? "";
    const config = await client(CoreV1Api).readNamespacedConfigMap({ name: configName, namespace: platform });
    expect(config.data?.["capstan.yaml"]).toContain("in_cluster: true");
    expect((await client(CoreV1Api).readNamespacedSecret({ name: "capstan-token", namespace: gpu })).type).toBe("kubernetes.io/service-account-token");

    const rbac = client(RbacAuthorizationV1Api);
    for (const ns of [platform, batch]) {
      const binding = await rbac.readNamespacedRoleBinding({ name: "capstan", namespace: ns });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "capstan", namespace: platform }]);
    }
    const allowed = async (user: string, verb: string, resource: string, ns?: string, group = "") => {
      const review = await client(AuthorizationV1Api).createSubjectAccessReview({
        body: { spec: { user, groups: ["system:serviceaccounts", "system:authenticated"], resourceAttributes: { verb, resource, group, ...(ns === undefined ? {} : { namespace: ns }) } } },
      });
      return review.status?.allowed === true;
    };
    const platformUser = `system:serviceaccount:${platform}:capstan`;
    expect(await allowed(platformUser, "create", "pods", batch)).toBe(true);
    expect(await allowed(platformUser, "get", "pods/log", platform)).toBe(true);
    expect(await allowed(platformUser, "create", "pods", gpu)).toBe(false);
    expect(await allowed(platformUser, "list", "nodes")).toBe(false);
    expect(await allowed(platformUser, "list", "pods")).toBe(false);
    const gpuUser = `system:serviceaccount:${gpu}:capstan`;
    expect(await allowed(gpuUser, "update", "deployments", gpu, "apps")).toBe(true);
    expect(await allowed(gpuUser, "create", "pods", batch)).toBe(false);
    expect(await allowed(gpuUser, "create", "clusterroles", undefined, "rbac.authorization.k8s.io")).toBe(false);
  });
});
