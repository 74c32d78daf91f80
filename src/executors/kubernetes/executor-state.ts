/**
 * What the rooms of the Kubernetes executor share: its options, clock and logger, the attempts it
 * follows, one pod informer per cluster and namespace, the listener of ended attempts, and the
 * background work that closing waits for.
 */
import type { Logger } from "pino";
import { systemClock, type Clock } from "../../clock/index.js";
import type { AttemptEndListener } from "../executor.js";
import type { KubeClusters, PodInformer } from "./kube/index.js";
import { TrackedPods } from "./tracked-pod.js";

export interface KubernetesExecutorOptions {
  clusters: KubeClusters;
  logger: Logger;
  /** Timers of startup and scheduling timeouts. */
  clock?: Clock;
  /** How long adoption waits for a namespace's pods to be listed before trusting the cache. */
  adoptSyncTimeoutMs?: number;
  /** How long the final log read after a pod ended may take. */
  finalLogTimeoutMs?: number;
  /** First delay before restarting a failed informer (doubles up to informerMaxBackoffMs). */
  informerBackoffMs?: number;
  informerMaxBackoffMs?: number;
  /** Delay before retrying a delete that failed (API server unreachable). */
  deleteRetryMs?: number;
  /**
   * How long a container runs before its log is followed; a pod that ends sooner is read once
   * after its end, which saves a request per short task.
   */
  logFollowDelayMs?: number;
  /** The interpreter whose venv holds pyspark: spark tasks (master k8s) are submitted from here with its spark-submit. */
  sparkPython?: string;
}

export class KubeExecutorState {
  readonly options: KubernetesExecutorOptions;
  readonly clusters: KubeClusters;
  readonly clock: Clock;
  readonly log: Logger;
  readonly pods = new TrackedPods();
  /** By `cluster\0namespace`. */
  readonly informers = new Map<string, PodInformer>();
  listener: AttemptEndListener = () => undefined;
  closed = false;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: KubernetesExecutorOptions) {
    this.options = options;
    this.clusters = options.clusters;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ executor: "kubernetes" });
  }

  /** Runs work in the background (an event handler's); its failure is logged, and closing waits for it. */
  defer(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.log.error({ err: error }, "Kubernetes executor task failed"));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  /** Waits until no background work is left (work may start more). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
