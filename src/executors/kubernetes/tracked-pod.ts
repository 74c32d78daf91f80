/**
 * An attempt the Kubernetes executor follows (where its pod is, what the pod last looked like, its
 * start timers, its log stream, how it is ending), and the table of them by attempt and by pod.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { Clock, ClockTimer } from "../../clock/index.js";
import type { AttemptRef } from "../executor.js";
import { ANNOTATIONS, ON_FINISH_POLICIES, type KubeCluster, type OnFinishPolicy, type PodLogStream, type PodSettings } from "./kube/index.js";

export interface TrackedPod {
  key: string;
  ref: AttemptRef;
  cluster: KubeCluster;
  namespace: string;
  podName: string;
  logPath: string;
  settings: PodSettings;
  preset: Record<string, string>;
  /** The pod exists (create returned, or the watch saw it). */
  created: boolean;
  createdAt: number | undefined;
  uid: string | undefined;
  lastPod: V1Pod | undefined;
  killedFor: string | undefined;
  /** A delete was sent (kill or policy). */
  deleting: boolean;
  ending: boolean;
  logs: PodLogStream | undefined;
  /** The log file is rebuilt from the API server (after adoption). */
  replaceLog: boolean;
  timers: ClockTimer[];
  /** Adopted before its namespace was listed: check it exists once the informer syncs. */
  checkAfterSync: boolean;
  /** A Spark driver's attempt label value: its executors, labelled with it, are deleted with it. */
  attemptLabel?: string;
  /** Bytes at the head of the log that are not the pod's (a Spark driver's spark-submit output); a replaced log keeps them. */
  logStart?: number;
  /** A Spark driver whose spark-submit still writes the head of the log: the pod's log waits for it. */
  submitting?: boolean;
  /** Pending start of the log follow. */
  followTimer?: NodeJS.Timeout | undefined;
}

/** A tracked attempt before anything of its pod has been seen. */
export function newTrackedPod(
  fields: Pick<TrackedPod, "key" | "ref" | "cluster" | "namespace" | "podName" | "logPath" | "settings" | "preset" | "created" | "killedFor" | "replaceLog" | "checkAfterSync">,
): TrackedPod {
  return { ...fields, createdAt: undefined, uid: undefined, lastPod: undefined, deleting: false, ending: false, logs: undefined, timers: [] };
}

/** When the pod was created, as the API server says (now, if it does not). */
export function podCreatedAt(pod: V1Pod, clock: Clock): number {
  return pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : clock.now();
}

/**
 * Takes what an existing pod records of its attempt (settings and preset outputs in its annotations,
 * its creation time) over what was assumed: the pod was made by another start of the attempt.
 */
export function takeRecordFromPod(tracked: TrackedPod, pod: V1Pod, clock: Clock): void {
  tracked.settings = settingsFromPod(pod, tracked.cluster);
  tracked.preset = presetFromPod(pod);
  tracked.createdAt = podCreatedAt(pod, clock);
}

function settingsFromPod(pod: V1Pod, cluster: KubeCluster): PodSettings {
  const a = pod.metadata?.annotations ?? {};
  const int = (text: string | undefined, fallback: number) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : fallback);
  const policy = a[ANNOTATIONS.onFinish];
  return {
    onFinish: (ON_FINISH_POLICIES as readonly string[]).includes(policy ?? "") ? (policy as OnFinishPolicy) : cluster.settings.onFinish,
    startupTimeoutMs: int(a[ANNOTATIONS.startupTimeout], cluster.settings.startupTimeoutMs),
    schedulingTimeoutMs: int(a[ANNOTATIONS.schedulingTimeout], cluster.settings.schedulingTimeoutMs),
    terminationGraceSeconds: int(a[ANNOTATIONS.terminationGrace], Math.ceil(cluster.settings.terminationGraceMs / 1000)),
  };
}

function presetFromPod(pod: V1Pod): Record<string, string> {
  const text = pod.metadata?.annotations?.[ANNOTATIONS.presetOutputs];
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}

function podKey(cluster: string, namespace: string, pod: string): string {
  return `${cluster}\u0000${namespace}\u0000${pod}`;
}

/** The attempts being followed, by attempt key and by pod, and how many run on each cluster. */
export class TrackedPods {
  readonly #byAttempt = new Map<string, TrackedPod>();
  readonly #byPod = new Map<string, TrackedPod>();
  readonly #running = new Map<string, number>();

  get(key: string): TrackedPod | undefined {
    return this.#byAttempt.get(key);
  }

  /** The attempt whose pod this is, if one is followed. */
  atPod(cluster: string, namespace: string, pod: string): TrackedPod | undefined {
    return this.#byPod.get(podKey(cluster, namespace, pod));
  }

  all(): TrackedPod[] {
    return [...this.#byAttempt.values()];
  }

  /** Attempts running now on a cluster. */
  running(cluster: string): number {
    return this.#running.get(cluster) ?? 0;
  }

  add(tracked: TrackedPod): void {
    this.#byAttempt.set(tracked.key, tracked);
    this.#byPod.set(podKey(tracked.cluster.name, tracked.namespace, tracked.podName), tracked);
    this.#running.set(tracked.cluster.name, this.running(tracked.cluster.name) + 1);
  }

  /** Stops following the attempt (its start timers too); nothing if another entry took its key. */
  remove(tracked: TrackedPod): void {
    if (this.#byAttempt.get(tracked.key) !== tracked) return;
    this.#byAttempt.delete(tracked.key);
    this.#byPod.delete(podKey(tracked.cluster.name, tracked.namespace, tracked.podName));
    this.#running.set(tracked.cluster.name, Math.max(0, this.running(tracked.cluster.name) - 1));
    for (const timer of tracked.timers) timer.clear();
    tracked.timers = [];
  }

  clear(): void {
    this.#byAttempt.clear();
    this.#byPod.clear();
    this.#running.clear();
  }
}
