/**
 * `capstan clusters add`, against the real kube-apiserver of the test control plane: the GPU-cluster
 * overlay's ServiceAccount, Role and token Secret are applied, the command reads the token through
 * the admin's context and writes a kubeconfig entry, and that entry can make the namespaced calls
 * Capstan needs and is refused a cluster-scoped one. Bad input (an unknown context, a missing
 * Secret, a Secret without a token) fails with a message naming it, and nothing is written.
 */
import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { clusterConfigSource, parseClusters } from "../../src/executors/kubernetes/kube/cluster-config.js";
import { REPO_ROOT } from "../support/build.js";
import { runCli, type CliResult } from "../support/cli-process.js";
import { acquireKubeTestenv, type KubeTestenv } from "../support/kube-testenv.js";
import { kustomizeBuild } from "../support/kustomize-testenv.js";
import { tempDir } from "../support/platform-harness.js";

let kube: KubeTestenv;
let adminConfig: KubeConfig;
const namespace = `gpu-account-${randomBytes(3).toString("hex")}`;
const dir = tempDir("capstan-clusters-add-");

function cli(args: string[]): Promise<CliResult> {
  return runCli(["clusters", "add", ...args], { cwd: dir, env: { KUBECONFIG: join(dir, "no-such-kubeconfig") } });
}

beforeAll(async () => {
  kube = await acquireKubeTestenv();
  adminConfig = new KubeConfig();
  adminConfig.loadFromFile(kube.kubeconfigPath);
  await adminConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  // The GPU-cluster overlay's objects (ServiceAccount, token Secret, Role, RoleBinding), moved into this run's namespace.
  const built = await kustomizeBuild(resolve(REPO_ROOT, "deploy/kustomize/overlays/gpu-cluster"));
  expect(built.code, built.stderr).toBe(0);
  const objects = KubernetesObjectApi.makeApiClient(adminConfig);
  for (const doc of parseAllDocuments(built.stdout)) {
    const text = doc.toString().replaceAll("namespace: ml-gpu", `namespace: ${namespace}`);
    await objects.patch(parse(text) as { apiVersion: string; kind: string; metadata: { name: string } }, undefined, undefined, "capstan-test", true, PatchStrategy.ServerSideApply);
  }
});

afterAll(async () => {
  await adminConfig.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace }).catch(() => undefined);
  await kube.stop();
});

/** Plays the token controller, which the test control plane does not run: a token the API server accepts, and its CA. */
async function fillTokenSecret(): Promise<void> {
  const core = adminConfig.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({ name: "capstan", namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = request.status?.token ?? "";
  expect(token).not.toBe("");
  adminConfig.setCurrentContext(kube.contexts.gpu.name);
  const ca = adminConfig.getCurrentCluster()?.caData ?? readFileSync(adminConfig.getCurrentCluster()?.caFile ?? "").toString("base64");
  const secret = await core.readNamespacedSecret({ name: "capstan-token", namespace });
  secret.data = { ...secret.data, token: Buffer.from(token).toString("base64"), "ca.crt": ca };
  await core.replaceNamespacedSecret({ name: "capstan-token", namespace, body: secret });
}

describe("capstan clusters add", () => {
  it("refuses an unknown context, a missing Secret and a Secret without a token, writing nothing", async () => {
    const out = join(dir, "refused.kubeconfig");
    const base = ["gpu", "--admin-kubeconfig", kube.kubeconfigPath, "--kubeconfig", out];

    const unknown = await cli([...base, "--from-context", "no-such-context", "--namespace", namespace]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/--from-context "no-such-context" is not in .*; contexts there: .*gpu/);

    const missing = await cli([...base, "--from-context", kube.contexts.gpu.name, "--namespace", namespace, "--token-secret", "no-such-secret"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`Secret ${namespace}/no-such-secret`);
    expect(missing.stderr).toMatch(/does not exist: install deploy\/helm\/capstan-cluster/);

    // The overlay's Secret exists, but no token controller runs here to fill it in.
    const empty = await cli([...base, "--from-context", kube.contexts.gpu.name, "--namespace", namespace]);
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain(`Secret ${namespace}/capstan-token`);
    expect(empty.stderr).toMatch(/has no token yet: the cluster's token controller/);

    const badName = await cli(["../gpu", "--from-context", kube.contexts.gpu.name, "--kubeconfig", out]);
    expect(badName.code).not.toBe(0);
    expect(badName.stderr).toMatch(/cluster name "\.\.\/gpu"/);

    const noDestination = await cli(["gpu", "--from-context", kube.contexts.gpu.name, "--admin-kubeconfig", kube.kubeconfigPath]);
    expect(noDestination.code).not.toBe(0);
    expect(noDestination.stderr).toMatch(/no capstan\.yaml here .*--kubeconfig PATH, or use --print/);
    expect(existsSync(out)).toBe(false);
  });

  it("writes an entry into the clusters' kubeconfig that may use its namespace and nothing cluster-wide", async () => {
    await fillTokenSecret();
    // capstan.yaml's clusters name one kubeconfig file, which already holds another entry.
    const kubeconfig = join(dir, "clusters.kubeconfig");
    writeFileSync(kubeconfig, stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "other", cluster: { server: "https://other.example:6443" } }], users: [{ name: "other", user: { token: "x" } }], contexts: [{ name: "other", context: { cluster: "other", user: "other" } }], "current-context": "other" }));
    writeFileSync(join(dir, "capstan.yaml"), stringify({ clusters: { cpu: { kubeconfig: "clusters.kubeconfig", context: "other" } } }));

    const added = await cli(["gpu", "--from-context", kube.contexts.gpu.name, "--admin-kubeconfig", kube.kubeconfigPath, "--namespace", namespace]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(`added context capstan-gpu (ServiceAccount ${namespace}/capstan) in ${kubeconfig}`);
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    const written = parse(readFileSync(kubeconfig, "utf8")) as { contexts: { name: string }[]; "current-context": string };
    expect(written.contexts.map((c) => c.name)).toEqual(["other", "capstan-gpu"]);
    expect(written["current-context"]).toBe("other");

    // The printed clusters: entry is one Capstan's own parser accepts.
    const entry = (parse(added.stdout.slice(added.stdout.indexOf("clusters:"))) as { clusters: Record<string, unknown> }).clusters;
    expect(entry).toEqual({ gpu: { kubeconfig: "clusters.kubeconfig", context: "capstan-gpu", namespace } });
    const settings = parseClusters(entry, clusterConfigSource(join(dir, "capstan.yaml"))).get("gpu");
    expect(settings?.source).toEqual({ kind: "kubeconfig", path: kubeconfig, context: "capstan-gpu" });

    // Acting as the ServiceAccount: its namespace works, the cluster-wide list is refused.
    const asCapstan = new KubeConfig();
    asCapstan.loadFromFile(kubeconfig);
    asCapstan.setCurrentContext("capstan-gpu");
    const core = asCapstan.makeApiClient(CoreV1Api);
    expect((await core.listNamespacedPod({ namespace })).items).toEqual([]);
    const refused = await core.listNode().then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<unknown>).code).toBe(403);
    const otherNamespace = await core.listNamespacedPod({ namespace: "default" }).then(() => undefined, (error: unknown) => error);
    expect((otherNamespace as ApiException<unknown>).code).toBe(403);

    // A second run replaces the entry instead of adding another.
    const again = await cli(["gpu", "--from-context", kube.contexts.gpu.name, "--admin-kubeconfig", kube.kubeconfigPath, "--namespace", namespace, "--kubeconfig", kubeconfig]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("replaced context capstan-gpu");
    expect((parse(readFileSync(kubeconfig, "utf8")) as { contexts: unknown[] }).contexts).toHaveLength(2);
  });

  it("prints the kubeconfig with --print and writes nothing", async () => {
    const before = readdirSync(dir).sort();
    const printed = await cli(["gpu", "--print", "--from-context", kube.contexts.gpu.name, "--admin-kubeconfig", kube.kubeconfigPath, "--namespace", namespace]);
    expect(printed.code, printed.stderr).toBe(0);
    const config = new KubeConfig();
    config.loadFromString(printed.stdout);
    expect(config.getCurrentContext()).toBe("capstan-gpu");
    expect(config.getContextObject("capstan-gpu")?.namespace).toBe(namespace);
    expect(config.getCurrentUser()?.token).toMatch(/^ey/);
    expect(printed.stderr).toContain("add to capstan.yaml");
    expect((await config.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "capstan-token", namespace })).metadata?.name).toBe("capstan-token");
    expect(readdirSync(dir).sort()).toEqual(before);

    const json = await runCli(["--json", "clusters", "add", "gpu", "--print", "--from-context", kube.contexts.gpu.name, "--admin-kubeconfig", kube.kubeconfigPath, "--namespace", namespace], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const answer = JSON.parse(json.stdout) as { cluster: string; context: string; namespace: string; kubeconfig: string; capstanYaml: string };
    expect(answer).toMatchObject({ cluster: "gpu", context: "capstan-gpu", namespace });
    expect((parse(answer.capstanYaml) as { clusters: Record<string, { context: string }> }).clusters.gpu?.context).toBe("capstan-gpu");
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
