/**
 * Names and labels of Capstan's pods: a deterministic pod name per (run, task, try), so a restart
 * or a second scheduler can never create a second pod for the same attempt; label values cut to
 * what Kubernetes accepts (the full ids travel in annotations); and the checks of user labels.
 */
import { createHash } from "node:crypto";

/** The label prefix of everything Capstan puts on a pod. */
export const CAPSTAN_PREFIX = "capstan.dev";

/** Labels on every pod (values sanitised; select by them, match by the annotations). */
export const LABELS = {
  pipeline: `${CAPSTAN_PREFIX}/pipeline`,
  run: `${CAPSTAN_PREFIX}/run`,
  task: `${CAPSTAN_PREFIX}/task`,
  try: `${CAPSTAN_PREFIX}/try`,
  managedBy: `${CAPSTAN_PREFIX}/managed-by`,
} as const;

/** Annotations with the exact ids and the settings a restarted scheduler needs to adopt a pod. */
export const ANNOTATIONS = {
  pipelineId: `${CAPSTAN_PREFIX}/pipeline-id`,
  pipelineVersion: `${CAPSTAN_PREFIX}/pipeline-version`,
  runId: `${CAPSTAN_PREFIX}/run-id`,
  taskId: `${CAPSTAN_PREFIX}/task-id`,
  try: `${CAPSTAN_PREFIX}/try`,
  token: `${CAPSTAN_PREFIX}/attempt-token`,
  onFinish: `${CAPSTAN_PREFIX}/on-finish`,
  startupTimeout: `${CAPSTAN_PREFIX}/startup-timeout-ms`,
  schedulingTimeout: `${CAPSTAN_PREFIX}/scheduling-timeout-ms`,
  terminationGrace: `${CAPSTAN_PREFIX}/termination-grace-s`,
  presetOutputs: `${CAPSTAN_PREFIX}/preset-outputs`,
} as const;

/** The value of `capstan.dev/managed-by` on Capstan's pods; informers select on it. */
export const MANAGED_BY = "capstan";

/** The label selector of every pod Capstan manages. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

const MAX_DNS_LABEL = 63;
const HASH_LENGTH = 10;

function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Lower-case letters, digits and single '-', no '-' at either end. */
function dnsLabelPart(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** Identifies one attempt for naming: the pod name depends on these alone. */
export interface AttemptIdentity {
  pipelineId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
}

/**
 * The pod of an attempt: `<pipeline>-<task>-<hash of (run id, task, try)>`, a DNS label of at most
 * 63 characters. The same attempt always gets the same name.
 */
export function podName(attempt: AttemptIdentity): string {
  const hash = shortHash(`${attempt.runId}\u0000${attempt.taskId}\u0000${attempt.tryNumber}`, HASH_LENGTH);
  let prefix = dnsLabelPart(`${attempt.pipelineId}-${attempt.taskId}`).slice(0, MAX_DNS_LABEL - HASH_LENGTH - 1);
  prefix = prefix.replace(/-+$/, "");
  return prefix === "" ? `task-${hash}` : `${prefix}-${hash}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const LABEL_VALUE_HINT = "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (or empty)";
export const LABEL_KEY_HINT = "an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";

/** Whether Kubernetes accepts `value` as a label value. */
export function isValidLabelValue(value: string): boolean {
  return value.length <= MAX_DNS_LABEL && LABEL_VALUE.test(value);
}

/** Whether Kubernetes accepts `key` as a label or annotation key (`prefix/name` or `name`). */
export function isValidLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  if (name.length === 0 || name.length > MAX_DNS_LABEL || !LABEL_NAME.test(name)) return false;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return true;
}

/**
 * A label value for any text: invalid characters become '-', and text too long keeps its start and
 * gains a short hash so different ids stay different. Valid values come back unchanged.
 */
export function labelValue(text: string): string {
  if (isValidLabelValue(text)) return text;
  let value = text.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  if (value.length > MAX_DNS_LABEL || value !== text) {
    const hash = shortHash(text, 8);
    value = `${value.slice(0, MAX_DNS_LABEL - hash.length - 1).replace(/[^A-Za-z0-9]+$/, "")}-${hash}`.replace(/^-/, "");
  }
  return value;
}

/** The labels that identify an attempt's pod. */
export function attemptLabels(attempt: AttemptIdentity): Record<string, string> {
  return {
    [LABELS.pipeline]: labelValue(attempt.pipelineId),
    [LABELS.run]: labelValue(attempt.runId),
    [LABELS.task]: labelValue(attempt.taskId),
    [LABELS.try]: String(attempt.tryNumber),
    [LABELS.managedBy]: MANAGED_BY,
  };
}

/** Whether a pod's annotations say it belongs to this attempt. */
export function podBelongsTo(annotations: Record<string, string> | undefined, attempt: Omit<AttemptIdentity, "pipelineId">): boolean {
  return (
    annotations?.[ANNOTATIONS.runId] === attempt.runId &&
    annotations[ANNOTATIONS.taskId] === attempt.taskId &&
    annotations[ANNOTATIONS.try] === String(attempt.tryNumber)
  );
}
