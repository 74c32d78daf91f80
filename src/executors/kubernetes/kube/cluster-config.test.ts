import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../config/index.js";
import { parseClusters } from "./cluster-config.js";
import { KubeClusters } from "./cluster-registry.js";
import { ClusterConfigError } from "./errors.js";

function configFile(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "capstan-clusters-"));
  const file = join(dir, "capstan.yaml");
  writeFileSync(file, text);
  return { dir, file };
}

describe("clusters in capstan.yaml", () => {
  it("resolves defaults and paths relative to the file", () => {
    const { dir, file } = configFile("executor: kubernetes\nclusters:\n  cpu:\n    kubeconfig: kube/config\n    context: prod\n  gpu:\n    in_cluster: true\n    default: true\n    gpu_resource: nvidia.com/gpu\n");
    const config = loadConfig({}, {}, dir);
    const clusters = parseClusters(config.clusters, { file, baseDir: dir });
    expect(clusters.get("cpu")).toMatchObject({ source: { kind: "kubeconfig", path: join(dir, "kube/config"), context: "prod" }, maxPods: 100, onFinish: "delete", startupTimeoutMs: 120_000, schedulingTimeoutMs: 120_000 });
    expect(clusters.get("gpu")).toMatchObject({ source: { kind: "in-cluster" }, isDefault: true });
    expect(config.defaultExecutor).toBe("kubernetes");
  });

  it("reports every bad setting with its line and column", () => {
    const { dir, file } = configFile("clusters:\n  cpu:\n    max_pods: 0\n    on_finish: sometimes\n    kubeconfg: /k\n");
    const config = loadConfig({}, {}, dir);
    let error: unknown;
    try {
      parseClusters(config.clusters, { file, baseDir: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClusterConfigError);
    const problems = (error as ClusterConfigError).problems;
    expect(problems).toContainEqual(`${file}:3:15: clusters.cpu.max_pods: max_pods is a whole number ≥ 1`);
    expect(problems).toContainEqual(`${file}:4:16: clusters.cpu.on_finish: on_finish is one of delete, delete_succeeded, keep`);
    expect(problems.some((p) => p.startsWith(`${file}:5:5: clusters.cpu: unknown setting kubeconfg; accepted: kubeconfig, context`))).toBe(true);
  });

  it("keeps a cluster whose kubeconfig cannot be read, with the reason, and the others usable", () => {
    const { dir, file } = configFile("x: 1\n");
    writeFileSync(join(dir, "kubeconfig"), "apiVersion: v1\nkind: Config\nclusters: [{ name: c, cluster: { server: 'https://127.0.0.1:6443' } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: dev, context: { cluster: c, user: u, namespace: team } }]\ncurrent-context: dev\n");
    const clusters = new KubeClusters(parseClusters({ good: { kubeconfig: "kubeconfig" }, bad: { kubeconfig: "missing" } }, { file, baseDir: dir }));
    expect(clusters.get("good").namespace).toBe("team");
    expect(clusters.problem("bad")).toMatch(/^cluster bad: cannot read kubeconfig .*missing \(ENOENT\)/);
    expect(clusters.problem("nope")).toMatch(/no cluster "nope" is configured; clusters in capstan.yaml: good, bad/);
  });
});
