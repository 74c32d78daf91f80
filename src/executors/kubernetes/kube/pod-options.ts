/**
 * The `kubernetes:` field of a task: pod-level options in snake_case (env from Secrets and
 * ConfigMaps, volumes, scheduling, security, the pod template file, on-finish policy, timeouts,
 * labels and annotations). Validated with zod at pipeline load time and again at launch.
 */
import { z } from "zod";
import { cpuField, durationField, memoryField, parseDuration } from "../../../units/index.js";
import { isValidLabelKey, isValidLabelValue, LABEL_KEY_HINT, LABEL_VALUE_HINT } from "./names.js";

/** What happens to a pod once its attempt has ended on its own. */
export const ON_FINISH_POLICIES = ["delete", "delete_succeeded", "keep"] as const;
export type OnFinishPolicy = (typeof ON_FINISH_POLICIES)[number];

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** An object name such as a Secret, ConfigMap, PVC or service account (DNS subdomain). */
export const objectName = (what: string) =>
  z
    .string({ error: `expected ${what} as a string` })
    .max(253, { error: `${what} is longer than 253 characters` })
    .regex(DNS_NAME, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid ${what}: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit` });

/** A volume or container port name (DNS label). */
const dnsLabel = (what: string) =>
  z
    .string({ error: `expected ${what} as a string` })
    .max(63, { error: `${what} is longer than 63 characters` })
    .regex(DNS_LABEL, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid ${what}: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters` });

/** Labels or annotations: keys as Kubernetes accepts them; label values checked too. */
const labelMap = z.record(
  z.string().refine(isValidLabelKey, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid key: ${LABEL_KEY_HINT}` }),
  z.string({ error: "expected a string value" }).refine(isValidLabelValue, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid label value: ${LABEL_VALUE_HINT}` }),
  { error: "expected a mapping of label names to values" },
);
const annotationMap = z.record(
  z.string().refine(isValidLabelKey, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid key: ${LABEL_KEY_HINT}` }),
  z.string({ error: "expected a string value" }),
  { error: "expected a mapping of annotation names to values" },
);

export const nodeSelectorSchema = z.record(
  z.string().refine(isValidLabelKey, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid node label key: ${LABEL_KEY_HINT}` }),
  z.string({ error: "expected a string value" }).refine(isValidLabelValue, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid label value: ${LABEL_VALUE_HINT}` }),
  { error: "expected a mapping of node label names to values" },
);

export const tolerationSchema = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(["Exists", "Equal"], { error: "operator must be Exists or Equal" }).optional(),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], { error: "effect must be NoSchedule, PreferNoSchedule or NoExecute" }).optional(),
  toleration_seconds: z.number().int().min(0).optional(),
});
export type TolerationOption = z.output<typeof tolerationSchema>;

export const imagePullSecretsSchema = z.array(objectName("a Secret name"), { error: "expected a list of Secret names" });

const envFromSchema = z.union(
  [
    z.strictObject({ secret: objectName("a Secret name"), prefix: z.string().regex(ENV_NAME).optional(), optional: z.boolean().optional() }),
    z.strictObject({ config_map: objectName("a ConfigMap name"), prefix: z.string().regex(ENV_NAME).optional(), optional: z.boolean().optional() }),
  ],
  { error: "each env_from entry is { secret: NAME } or { config_map: NAME }, with optional prefix and optional" },
);

const keyRefSchema = z.union(
  [
    z.strictObject({ secret: objectName("a Secret name"), key: z.string().min(1), optional: z.boolean().optional() }),
    z.strictObject({ config_map: objectName("a ConfigMap name"), key: z.string().min(1), optional: z.boolean().optional() }),
  ],
  { error: "each secret_env entry is { secret: NAME, key: KEY } or { config_map: NAME, key: KEY }" },
);

const mountFields = {
  /** Where the volume appears in the task container. */
  mount: z.string({ error: "mount is the absolute path where the volume appears in the container" }).regex(/^\//, { error: "mount must be an absolute path such as /data" }),
  read_only: z.boolean().optional(),
  sub_path: z.string().optional(),
};

const volumeSchema = z.union(
  [
    z.strictObject({ name: dnsLabel("a volume name"), pvc: objectName("a PersistentVolumeClaim name"), ...mountFields }),
    z.strictObject({ name: dnsLabel("a volume name"), config_map: objectName("a ConfigMap name"), optional: z.boolean().optional(), ...mountFields }),
    z.strictObject({ name: dnsLabel("a volume name"), secret: objectName("a Secret name"), optional: z.boolean().optional(), ...mountFields }),
    z.strictObject({
      name: dnsLabel("a volume name"),
      empty_dir: z.strictObject({ size_limit: memoryField.optional(), medium: z.enum(["", "Memory"], { error: 'medium is "" or "Memory"' }).optional() }),
      ...mountFields,
    }),
  ],
  { error: "each volume has a name, a mount path and one of pvc, config_map, secret or empty_dir" },
);

/** A Kubernetes object written in the API's own shape (camelCase), checked by the API server. */
const apiObject = (what: string) => z.record(z.string(), z.unknown(), { error: `expected ${what} as a mapping in the Kubernetes API's shape` });

export const podOptionsSchema = z.strictObject({
  labels: labelMap.optional(),
  annotations: annotationMap.optional(),
  env_from: z.array(envFromSchema).optional(),
  secret_env: z.record(z.string().regex(ENV_NAME, { error: "environment variable names are letters, digits, '_', '-' and '.'" }), keyRefSchema).optional(),
  volumes: z.array(volumeSchema).optional(),
  node_selector: nodeSelectorSchema.optional(),
  tolerations: z.array(tolerationSchema).optional(),
  affinity: apiObject("an affinity").optional(),
  service_account: objectName("a service account name").optional(),
  image_pull_policy: z.enum(["Always", "IfNotPresent", "Never"], { error: "image_pull_policy is Always, IfNotPresent or Never" }).optional(),
  image_pull_secrets: imagePullSecretsSchema.optional(),
  security_context: apiObject("a container securityContext").optional(),
  pod_security_context: apiObject("a pod securityContext").optional(),
  priority_class: objectName("a priority class name").optional(),
  scheduler_name: z.string().min(1).optional(),
  host_network: z.boolean().optional(),
  dns_policy: z.enum(["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"], { error: "dns_policy is ClusterFirst, ClusterFirstWithHostNet, Default or None" }).optional(),
  /** A YAML file with a Pod manifest used as the base; relative to the pipeline file's folder. */
  pod_template: z.string().min(1).optional(),
  on_finish: z.enum(ON_FINISH_POLICIES, { error: `on_finish is one of ${ON_FINISH_POLICIES.join(", ")}` }).optional(),
  startup_timeout: durationField.optional(),
  scheduling_timeout: durationField.optional(),
  active_deadline: durationField.optional(),
  termination_grace: durationField.optional(),
  working_dir: z.string().regex(/^\//, { error: "working_dir must be an absolute path in the container" }).optional(),
  /** Limits beyond the requests taken from `resources:` (memory defaults to the request). */
  limits: z.strictObject({ cpu: cpuField.optional(), memory: memoryField.optional() }).optional(),
  /** Where $CAPSTAN_ARTIFACTS_DIR points inside the pod (on a mounted volume). */
  artifacts_dir: z.string().regex(/^\//, { error: "artifacts_dir must be an absolute path in the container" }).optional(),
});

/** The `kubernetes:` field as written. */
export type PodOptions = z.output<typeof podOptionsSchema>;

/** Fields of `kubernetes:`, for "unknown field" messages. */
export const POD_OPTION_FIELDS = Object.keys(podOptionsSchema.shape);

/** One problem in a task's `kubernetes:` field; `path` is relative to that field. */
export interface PodOptionIssue {
  path: (string | number)[];
  message: string;
}

/** Parses a task's `kubernetes:` field; returns the options or every problem found. */
export function parsePodOptions(value: unknown): { ok: true; options: PodOptions } | { ok: false; issues: PodOptionIssue[] } {
  const parsed = podOptionsSchema.safeParse(value ?? {});
  if (parsed.success) return { ok: true, options: parsed.data };
  const issues = parsed.error.issues.flatMap((issue): PodOptionIssue[] => {
    const path = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
    if (issue.code === "unrecognized_keys") {
      const accepted = path.length === 0 ? `; accepted here: ${POD_OPTION_FIELDS.join(", ")}` : "";
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown field ${JSON.stringify(key)}${accepted}` }));
    }
    if (issue.code === "invalid_type" && issue.input === undefined) return [{ path, message: `${String(path[path.length - 1] ?? "value")} is required` }];
    return [{ path, message: issue.message }];
  });
  return { ok: false, issues };
}

/** Milliseconds of an optional duration field already checked by the schema. */
export function durationMs(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : parseDuration(value);
}
