/**
 * The labels and annotations that choose what the fake kubelet (kwok, with the stages in
 * scripts/kube-testenv/stages/pod-stages.yaml) does with a pod, and a helper that builds them.
 * docs/kube-testenv.md describes each path.
 */

/** Prefix of every label and annotation the test stages read. */
export const KUBE_TESTENV_PREFIX = "kube-testenv.capstan.dev";

/** Label that picks the pod's path; absent means "complete". */
export const OUTCOME_LABEL = `${KUBE_TESTENV_PREFIX}/outcome`;

/** Annotations read by the stages. */
export const BEHAVIOUR_ANNOTATIONS = {
  /** Exit code of every container (default 0; 1 for outcome "fail"). Non-zero makes the pod Failed. */
  exitCode: `${KUBE_TESTENV_PREFIX}/exit-code`,
  /** Terminated reason (default Completed for 0, Error otherwise). */
  reason: `${KUBE_TESTENV_PREFIX}/reason`,
  /** Termination message of the containers; for "evicted", the pod's status message. */
  message: `${KUBE_TESTENV_PREFIX}/message`,
  /** Time spent Pending (ContainerCreating) before Running; for "image-pull-error", before ImagePullBackOff. */
  startDelay: `${KUBE_TESTENV_PREFIX}/start-delay`,
  /** Time spent Running before the pod ends (complete, fail, oom-killed, evicted). */
  runDuration: `${KUBE_TESTENV_PREFIX}/run-duration`,
  /** Time between a delete request and the pod's removal. */
  deleteDelay: `${KUBE_TESTENV_PREFIX}/delete-delay`,
} as const;

/**
 * Paths a pod can take:
 * - complete: Pending → Running → Succeeded (exit code 0) or Failed (a non-zero exit-code);
 * - fail: like complete with a default exit code of 1;
 * - oom-killed: Running → Failed, containers terminated with reason OOMKilled, exit code 137;
 * - evicted: Running → Failed with pod reason Evicted and a DisruptionTarget condition;
 * - image-pull-error: stays Pending, waiting ErrImagePull, then ImagePullBackOff;
 * - pending: stays Pending with containers in ContainerCreating;
 * - running: stays Running until deleted.
 */
export type PodOutcome = "complete" | "fail" | "oom-killed" | "evicted" | "image-pull-error" | "pending" | "running";

/** What a test wants the fake kubelet to do with a pod. Durations are milliseconds. */
export interface PodBehaviour {
  outcome?: PodOutcome;
  exitCode?: number;
  reason?: string;
  message?: string;
  startDelayMs?: number;
  runDurationMs?: number;
  deleteDelayMs?: number;
}

/** Labels and annotations to merge into a pod's metadata. */
export interface PodBehaviourMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Builds the labels and annotations for `behaviour`, e.g. `{ outcome: "fail", exitCode: 3, message: "boom" }`. */
export function podBehaviour(behaviour: PodBehaviour): PodBehaviourMetadata {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  if (behaviour.outcome !== undefined) labels[OUTCOME_LABEL] = behaviour.outcome;
  if (behaviour.exitCode !== undefined) {
    if (!Number.isInteger(behaviour.exitCode) || behaviour.exitCode < 0 || behaviour.exitCode > 255)
      throw new RangeError(`podBehaviour exitCode ${behaviour.exitCode} is not an integer from 0 to 255`);
    annotations[BEHAVIOUR_ANNOTATIONS.exitCode] = String(behaviour.exitCode);
  }
  if (behaviour.reason !== undefined) annotations[BEHAVIOUR_ANNOTATIONS.reason] = behaviour.reason;
  if (behaviour.message !== undefined) annotations[BEHAVIOUR_ANNOTATIONS.message] = behaviour.message;
  const durations: [number | undefined, string][] = [
    [behaviour.startDelayMs, BEHAVIOUR_ANNOTATIONS.startDelay],
    [behaviour.runDurationMs, BEHAVIOUR_ANNOTATIONS.runDuration],
    [behaviour.deleteDelayMs, BEHAVIOUR_ANNOTATIONS.deleteDelay],
  ];
  for (const [ms, key] of durations) {
    if (ms === undefined) continue;
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`podBehaviour ${key} ${ms} is not a duration in ms >= 0`);
    annotations[key] = `${Math.round(ms)}ms`;
  }
  return { labels, annotations };
}
