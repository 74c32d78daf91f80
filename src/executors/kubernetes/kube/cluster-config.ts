/**
 * The `clusters:` section of capstan.yaml: named Kubernetes clusters (kubeconfig path + context,
 * or in-cluster), their default and allowed namespaces, GPU resource name, defaults for every pod
 * (tolerations, node selector, image pull secrets, on-finish policy, timeouts) and the number of
 * pods Capstan runs there at once. Errors carry capstan.yaml's line and column.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { isMap, isPair, isScalar, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { durationField } from "../../../units/index.js";
import { ClusterConfigError } from "./errors.js";
import { imageReferenceProblem } from "./image-reference.js";
import { isValidLabelKey, LABEL_KEY_HINT } from "./names.js";
import {
  durationMs,
  imagePullSecretsSchema,
  nodeSelectorSchema,
  objectName,
  ON_FINISH_POLICIES,
  tolerationSchema,
  type OnFinishPolicy,
  type TolerationOption,
} from "./pod-options.js";

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const namespaceName = z
  .string({ error: "expected a namespace name" })
  .max(63, { error: "a namespace name has at most 63 characters" })
  .regex(NAMESPACE, { error: (issue) => `${JSON.stringify(issue.input)} is not a namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit` });

export const clusterSchema = z
  .strictObject({
    /** Path of the kubeconfig file (relative to capstan.yaml; `~` is the home folder). Default: $KUBECONFIG, else ~/.kube/config. */
    kubeconfig: z.string().min(1).optional(),
    /** Context in the kubeconfig; default: its current-context. */
    context: z.string().min(1).optional(),
    /** Use the service account of the pod Capstan runs in. */
    in_cluster: z.boolean().optional(),
    /** The cluster of tasks that name none (else the first cluster listed). */
    default: z.boolean().optional(),
    /** Namespace of tasks that name none; default: the context's namespace, else "default". */
    namespace: namespaceName.optional(),
    /** Namespaces tasks may use; absent: any. The default namespace is always allowed. */
    namespaces: z.array(namespaceName).optional(),
    /** Image of tasks that name none. */
    image: z.string().refine((v) => imageReferenceProblem(v) === undefined, { error: (issue) => imageReferenceProblem(String(issue.input)) ?? "invalid image" }).optional(),
    /** Pods Capstan runs on this cluster at once; more tasks wait. */
    max_pods: z.number({ error: "max_pods is a whole number ≥ 1" }).int({ error: "max_pods is a whole number ≥ 1" }).min(1, { error: "max_pods is a whole number ≥ 1" }).optional(),
    /** The extended resource that `resources.gpu` asks for. */
    gpu_resource: z.string().refine(isValidLabelKey, { error: `gpu_resource is a resource name such as nvidia.com/gpu (${LABEL_KEY_HINT})` }).optional(),
    /** Tolerations and node selector added to pods that ask for GPUs. */
    gpu_tolerations: z.array(tolerationSchema).optional(),
    gpu_node_selector: nodeSelectorSchema.optional(),
    /** Added to every pod on this cluster. */
    tolerations: z.array(tolerationSchema).optional(),
    node_selector: nodeSelectorSchema.optional(),
    image_pull_secrets: imagePullSecretsSchema.optional(),
    service_account: objectName("a service account name").optional(),
    on_finish: z.enum(ON_FINISH_POLICIES, { error: `on_finish is one of ${ON_FINISH_POLICIES.join(", ")}` }).optional(),
    startup_timeout: durationField.optional(),
    scheduling_timeout: durationField.optional(),
    termination_grace: durationField.optional(),
    /** A Pod manifest (YAML) every pod of this cluster starts from; relative to capstan.yaml. */
    pod_template: z.string().min(1).optional(),
    /** The Python interpreter of `python` tasks inside the image. */
    python: z.string().min(1).optional(),
    /** The argv prefix that runs the capstan CLI inside the image (notebook tasks). */
    capstan: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((c) => !(c.in_cluster === true && (c.kubeconfig !== undefined || c.context !== undefined)), {
    error: "in_cluster: true uses the pod's service account; leave out kubeconfig and context",
  });

/** A cluster's settings, resolved: defaults applied, durations in ms, paths absolute. */
export interface ClusterSettings {
  name: string;
  source: { kind: "kubeconfig"; path: string; context: string | undefined } | { kind: "in-cluster" };
  isDefault: boolean;
  /** Namespace of tasks that name none; undefined: the context's (resolved when the cluster loads). */
  namespace: string | undefined;
  /** Allowed namespaces; null: any. */
  namespaces: string[] | null;
  image: string | undefined;
  maxPods: number;
  gpuResource: string;
  gpuTolerations: TolerationOption[];
  gpuNodeSelector: Record<string, string>;
  tolerations: TolerationOption[];
  nodeSelector: Record<string, string>;
  imagePullSecrets: string[];
  serviceAccount: string | undefined;
  onFinish: OnFinishPolicy;
  startupTimeoutMs: number;
  schedulingTimeoutMs: number;
  terminationGraceMs: number;
  podTemplate: string | undefined;
  python: string;
  capstan: string[];
}

/** Defaults that match KubernetesPodOperator's where it has one. */
export const CLUSTER_DEFAULTS = {
  maxPods: 100,
  gpuResource: "nvidia.com/gpu",
  onFinish: "delete" as OnFinishPolicy,
  startupTimeoutMs: 120_000,
  terminationGraceMs: 30_000,
  python: "python3",
  capstan: ["capstan"],
} as const;

/** Where the clusters were written: capstan.yaml's path, or null when configured in code. */
export interface ClusterConfigSource {
  file: string | null;
  /** The folder relative paths resolve against (capstan.yaml's folder, else the working folder). */
  baseDir: string;
}

function expandPath(path: string, baseDir: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function defaultKubeconfig(): string {
  const fromEnv = process.env.KUBECONFIG?.split(":").find((p) => p !== "");
  return fromEnv ?? join(homedir(), ".kube", "config");
}

/** Finds `clusters.NAME.FIELD…` in capstan.yaml and returns "file:line:col", or just the file. */
function locator(source: ClusterConfigSource): (path: readonly PropertyKey[], atKey?: boolean) => string {
  if (source.file === null) return () => "clusters";
  let doc: ReturnType<typeof parseDocument> | undefined;
  const lines = new LineCounter();
  try {
    doc = parseDocument(readFileSync(source.file, "utf8"), { lineCounter: lines });
  } catch {
    doc = undefined;
  }
  return (path, atKey = false) => {
    const file = source.file ?? "";
    if (!doc) return file;
    if (atKey && path.length > 0) {
      const parent: unknown = doc.getIn(["clusters", ...path.slice(0, -1)], true);
      const last = String(path[path.length - 1]);
      const pair = isMap(parent) ? parent.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === last) : undefined;
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) {
        const pos = lines.linePos(range[0]);
        return `${file}:${pos.line}:${pos.col}`;
      }
    }
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(["clusters", ...path.slice(0, n)], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const pos = lines.linePos(node.range[0]);
        return `${file}:${pos.line}:${pos.col}`;
      }
    }
    return file;
  };
}

/**
 * Validates `clusters:` and resolves every cluster. Throws ClusterConfigError listing every
 * problem with its position in capstan.yaml.
 */
export function parseClusters(raw: Record<string, unknown>, source: ClusterConfigSource): Map<string, ClusterSettings> {
  const where = locator(source);
  const problems: string[] = [];
  const clusters = new Map<string, ClusterSettings>();
  const names = Object.keys(raw);
  for (const name of names) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) {
      problems.push(`${where([name])}: clusters.${name}: a cluster name is letters, digits, '_', '-' and '.', starting with a letter or digit, at most 63 characters`);
      continue;
    }
    const parsed = clusterSchema.safeParse(raw[name] ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = [name, ...issue.path];
        const field = ["clusters", ...path.map(String)].join(".");
        const message = issue.code === "unrecognized_keys"
          ? `unknown setting ${issue.keys.join(", ")}; accepted: ${Object.keys(clusterSchema.shape).join(", ")}`
          : issue.message;
        problems.push(`${issue.code === "unrecognized_keys" ? where([...path, issue.keys[0] ?? ""], true) : where(path)}: ${field}: ${message}`);
      }
      continue;
    }
    const c = parsed.data;
    const startupTimeoutMs = durationMs(c.startup_timeout) ?? CLUSTER_DEFAULTS.startupTimeoutMs;
    const namespaces = c.namespaces ? [...new Set([...(c.namespace ? [c.namespace] : []), ...c.namespaces])] : null;
    clusters.set(name, {
      name,
      source: c.in_cluster === true ? { kind: "in-cluster" } : { kind: "kubeconfig", path: expandPath(c.kubeconfig ?? defaultKubeconfig(), source.baseDir), context: c.context },
      isDefault: c.default === true,
      namespace: c.namespace,
      namespaces,
      image: c.image,
      maxPods: c.max_pods ?? CLUSTER_DEFAULTS.maxPods,
      gpuResource: c.gpu_resource ?? CLUSTER_DEFAULTS.gpuResource,
      gpuTolerations: c.gpu_tolerations ?? [],
      gpuNodeSelector: c.gpu_node_selector ?? {},
      tolerations: c.tolerations ?? [],
      nodeSelector: c.node_selector ?? {},
      imagePullSecrets: c.image_pull_secrets ?? [],
      serviceAccount: c.service_account,
      onFinish: c.on_finish ?? CLUSTER_DEFAULTS.onFinish,
      startupTimeoutMs,
      schedulingTimeoutMs: durationMs(c.scheduling_timeout) ?? startupTimeoutMs,
      terminationGraceMs: durationMs(c.termination_grace) ?? CLUSTER_DEFAULTS.terminationGraceMs,
      podTemplate: c.pod_template === undefined ? undefined : expandPath(c.pod_template, source.baseDir),
      python: c.python ?? CLUSTER_DEFAULTS.python,
      capstan: c.capstan ?? [...CLUSTER_DEFAULTS.capstan],
    });
  }
  const defaults = [...clusters.values()].filter((c) => c.isDefault);
  if (defaults.length > 1) {
    problems.push(`${where([defaults[1]?.name ?? ""])}: clusters: ${defaults.map((c) => c.name).join(" and ")} are both marked default: true; mark one`);
  }
  if (problems.length > 0) throw new ClusterConfigError(problems);
  return clusters;
}

/** The cluster of tasks that name none: the one marked default, else the first listed. */
export function defaultClusterName(clusters: ReadonlyMap<string, ClusterSettings>): string | undefined {
  for (const cluster of clusters.values()) if (cluster.isDefault) return cluster.name;
  return clusters.keys().next().value;
}

/** The source of clusters configured in capstan.yaml (or in code when `file` is null). */
export function clusterConfigSource(file: string | null, cwd = process.cwd()): ClusterConfigSource {
  return { file, baseDir: file ? dirname(file) : cwd };
}
