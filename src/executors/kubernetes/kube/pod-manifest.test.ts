import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseClusters } from "./cluster-config.js";
import { buildPod, POD_ATTEMPT_DIR } from "./pod-manifest.js";
import { parsePodOptions, type PodOptions } from "./pod-options.js";
import { loadPodTemplate } from "./pod-template.js";

const cluster = parseClusters(
  { gpu: { kubeconfig: "/k", image: "ghcr.io/team/base:1", tolerations: [{ key: "dedicated", operator: "Exists" }], gpu_resource: "amd.com/gpu", gpu_tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }], gpu_node_selector: { accel: "mi300" }, image_pull_secrets: ["pull"] } },
  { file: null, baseDir: "/" },
).get("gpu");

function options(value: unknown): PodOptions {
  const parsed = parsePodOptions(value);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.options;
}

function build(overrides: { options?: unknown; gpu?: number; files?: Record<string, string>; template?: ReturnType<typeof loadPodTemplate>; env?: Record<string, string>; secretEnv?: string[] } = {}) {
  if (!cluster) throw new Error("no cluster");
  return buildPod({
    attempt: { pipelineId: "etl", runId: "etl-1", taskId: "train", tryNumber: 2, pipelineVersion: "v1", token: "tok" },
    cluster,
    namespace: "team-a",
    image: undefined,
    argv: ["python3", "train.py"],
    files: overrides.files ?? {},
    env: { MODE: "full", CAPSTAN_OUTPUT: "/home/x/output.json", CAPSTAN_ARTIFACTS_DIR: "/home/x/artifacts", CAPSTAN_RUN_ID: "etl-1", ...overrides.env },
    secretEnv: overrides.secretEnv ?? [],
    resources: { cpu: 1.5, memory: 2 ** 30, gpu: overrides.gpu ?? 0 },
    options: options(overrides.options ?? {}),
    template: overrides.template,
    presetOutputs: {},
  });
}

describe("pods built from tasks", () => {
  it("carries the attempt's identity, environment and resources; outputs go to the termination message", () => {
    const { pod } = build();
    expect(pod.metadata?.labels).toMatchObject({ "capstan.dev/pipeline": "etl", "capstan.dev/run": "etl-1", "capstan.dev/task": "train", "capstan.dev/try": "2", "capstan.dev/managed-by": "capstan" });
    expect(pod.metadata?.annotations).toMatchObject({ "capstan.dev/run-id": "etl-1", "capstan.dev/task-id": "train", "capstan.dev/try": "2" });
    const c = pod.spec?.containers[0];
    expect(c?.image).toBe("ghcr.io/team/base:1");
    expect(c?.command).toEqual(["python3", "train.py"]);
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ MODE: "full", CAPSTAN_OUTPUT: "/dev/termination-log", CAPSTAN_RUN_ID: "etl-1", CAPSTAN_ATTEMPT_DIR: POD_ATTEMPT_DIR });
    expect(env.CAPSTAN_ARTIFACTS_DIR).toBeUndefined();
    expect(c?.resources).toEqual({ requests: { cpu: "1500m", memory: "1073741824" }, limits: { memory: "1073741824" } });
    expect(pod.spec?.restartPolicy).toBe("Never");
    expect(pod.spec?.tolerations).toEqual([{ key: "dedicated", operator: "Exists" }]);
    expect(pod.spec?.imagePullSecrets).toEqual([{ name: "pull" }]);
  });

  it("keeps secret-store values out of the pod: an attempt Secret read with secretKeyRef", () => {
    const { pod, secret } = build({ env: { DB_PASSWORD: "hunter2 ✓", DB_USER: "etl" }, secretEnv: ["DB_PASSWORD"] });
    const env = pod.spec?.containers[0]?.env ?? [];
    const name = pod.metadata?.name ?? "";
    expect(env.find((e) => e.name === "DB_PASSWORD")).toEqual({ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name, key: "DB_PASSWORD" } } });
    expect(env.find((e) => e.name === "DB_USER")).toEqual({ name: "DB_USER", value: "etl" });
    expect(JSON.stringify(pod)).not.toContain("hunter2");
    expect(secret?.metadata).toMatchObject({ name, namespace: "team-a", labels: pod.metadata?.labels, annotations: { "capstan.dev/run-id": "etl-1", "capstan.dev/task-id": "train", "capstan.dev/try": "2" } });
    expect(secret?.immutable).toBe(true);
    expect(Buffer.from(secret?.data?.DB_PASSWORD ?? "", "base64").toString("utf8")).toBe("hunter2 ✓");
    expect(Object.keys(secret?.data ?? {})).toEqual(["DB_PASSWORD"]);
    expect(build().secret).toBeUndefined();
  });

  it("asks for GPUs as the cluster's GPU resource, with its tolerations and node selector", () => {
    const { pod } = build({ gpu: 2 });
    expect(pod.spec?.containers[0]?.resources?.limits?.["amd.com/gpu"]).toBe("2");
    expect(pod.spec?.tolerations).toContainEqual({ key: "gpu", operator: "Exists", effect: "NoSchedule" });
    expect(pod.spec?.nodeSelector).toEqual({ accel: "mi300" });
  });

  it("maps the kubernetes: options onto the pod", () => {
    const { pod, settings } = build({
      options: {
        labels: { team: "ml" },
        env_from: [{ secret: "db" }, { config_map: "settings", prefix: "APP_" }],
        secret_env: { TOKEN: { secret: "api", key: "token" } },
        volumes: [{ name: "data", pvc: "team-data", mount: "/data", read_only: true }, { name: "scratch", empty_dir: { size_limit: "1Gi" }, mount: "/scratch" }],
        service_account: "trainer",
        on_finish: "keep",
        active_deadline: "1h",
        termination_grace: "45s",
        limits: { cpu: 2 },
        working_dir: "/app",
      },
    });
    const c = pod.spec?.containers[0];
    expect(pod.metadata?.labels?.team).toBe("ml");
    expect(c?.envFrom).toEqual([{ secretRef: { name: "db" } }, { prefix: "APP_", configMapRef: { name: "settings" } }]);
    expect(c?.env).toContainEqual({ name: "TOKEN", valueFrom: { secretKeyRef: { name: "api", key: "token" } } });
    expect(pod.spec?.volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: "team-data", readOnly: true } });
    expect(pod.spec?.volumes).toContainEqual({ name: "scratch", emptyDir: { sizeLimit: "1073741824" } });
    expect(c?.volumeMounts).toContainEqual({ name: "data", mountPath: "/data", readOnly: true });
    expect(c?.resources?.limits?.cpu).toBe("2000m");
    expect(c?.workingDir).toBe("/app");
    expect(pod.spec?.serviceAccountName).toBe("trainer");
    expect(pod.spec?.activeDeadlineSeconds).toBe(3600);
    expect(pod.spec?.terminationGracePeriodSeconds).toBe(45);
    expect(settings.onFinish).toBe("keep");
  });

  it("writes the command's files (notebook parameters) in the pod before running it", () => {
    const { pod } = build({ files: { "parameters.json": '{"alpha": 0.1}' } });
    const c = pod.spec?.containers[0];
    expect(c?.command?.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(c?.command?.slice(-2)).toEqual(["python3", "train.py"]);
    expect(c?.env).toContainEqual({ name: "CAPSTAN_FILE_0", value: '{"alpha": 0.1}' });
  });

  it("starts from a pod template whose fields the task overrides, keeping its sidecars", () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-template-"));
    const file = join(dir, "pod.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: { cost-center: ml }\nspec:\n  priorityClassName: batch\n  containers:\n  - name: main\n    image: ghcr.io/team/old:0\n    env: [{ name: MODE, value: template }]\n  - name: proxy\n    image: ghcr.io/team/proxy:2\n");
    const { pod } = build({ template: loadPodTemplate(file, ["kubernetes", "pod_template"]) });
    expect(pod.metadata?.labels?.["cost-center"]).toBe("ml");
    expect(pod.spec?.priorityClassName).toBe("batch");
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(["task", "proxy"]);
    expect(pod.spec?.containers[0]?.image).toBe("ghcr.io/team/base:1");
    expect(pod.spec?.containers[0]?.env?.filter((e) => e.name === "MODE")).toEqual([{ name: "MODE", value: "full" }]);
  });
});
