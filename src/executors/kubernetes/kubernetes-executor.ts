/**
 * The Kubernetes executor: each attempt is one pod, with a name that depends only on (run, task,
 * try), so a restart or a second scheduler never creates a second pod for the same attempt (the
 * API server answers AlreadyExists and the pod is adopted). One informer per cluster and namespace
 * reports every pod's changes; nothing polls a pod. The work is done in rooms beside this file:
 * launching (pod-launch.ts, attempt-pod.ts), the watch and start timeouts (pod-watch.ts), adoption
 * (pod-adoption.ts), logs (pod-logs.ts), the end of an attempt with the on-finish policy
 * (pod-end.ts) and stopping one (pod-kill.ts); what they share is executor-state.ts.
 */
import type { SpecCheck } from "../../pipelines/index.js";
import {
  LaunchError,
  type AdoptResult,
  type AttemptEndListener,
  type AttemptLaunch,
  type AttemptRef,
  type Executor,
  type LaunchInfo,
  type StoredAttempt,
} from "../executor.js";
import { KubeExecutorState, type KubernetesExecutorOptions } from "./executor-state.js";
import { kubernetesSpecCheck, type KubeClusters } from "./kube/index.js";
import { adoptAttempts } from "./pod-adoption.js";
import { killAttempt } from "./pod-kill.js";
import { launchPod } from "./pod-launch.js";

export type { KubernetesExecutorOptions } from "./executor-state.js";

/** Runs task attempts as pods on the configured clusters. */
export class KubernetesExecutor implements Executor {
  readonly name = "kubernetes";
  readonly clusters: KubeClusters;
  readonly #state: KubeExecutorState;

  constructor(options: KubernetesExecutorOptions) {
    this.#state = new KubeExecutorState(options);
    this.clusters = options.clusters;
  }

  /** The check of pipeline files against the configured clusters. */
  specCheck(defaultExecutor: string): SpecCheck {
    return kubernetesSpecCheck(this.clusters, defaultExecutor, this.name);
  }

  /** Attempts running now on a cluster. */
  running(cluster: string): number {
    return this.#state.pods.running(cluster);
  }

  onAttemptEnd(listener: AttemptEndListener): void {
    this.#state.listener = listener;
  }

  canLaunch(launch: Pick<AttemptLaunch, "resources" | "task">): boolean {
    const name = this.clusters.resolveName(launch.task.cluster);
    const problem = this.clusters.problem(name);
    if (problem) throw new LaunchError(`task ${launch.task.id}: ${problem}`, { retryable: false });
    const settings = this.clusters.settings(name);
    return this.running(name) < (settings?.maxPods ?? Infinity);
  }

  async launch(launch: AttemptLaunch): Promise<LaunchInfo> {
    return launchPod(this.#state, launch);
  }

  async kill(ref: AttemptRef, reason: string): Promise<void> {
    return killAttempt(this.#state, ref, reason);
  }

  async adopt(attempts: readonly StoredAttempt[]): Promise<Map<string, AdoptResult>> {
    return adoptAttempts(this.#state, attempts);
  }

  async close(): Promise<void> {
    const state = this.#state;
    state.closed = true;
    await state.settle();
    for (const tracked of state.pods.all()) {
      for (const timer of tracked.timers) timer.clear();
      if (tracked.followTimer) clearTimeout(tracked.followTimer);
      await tracked.logs?.stop();
    }
    state.pods.clear();
    await Promise.all([...state.informers.values()].map((informer) => informer.stop()));
    state.informers.clear();
    this.clusters.close();
  }
}
