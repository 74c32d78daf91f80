/**
 * One informer (list + watch, from @kubernetes/client-node) per cluster and namespace, selecting
 * Capstan's pods by label. The library relists after 410 Gone and reconnects after a watch ends,
 * but stops for good after any other error; this wrapper restarts it with exponential backoff and
 * says when its cache is in step with the API server ("synced"), which adoption waits for.
 */
import { makeInformer, type Informer, type ObjectCache, type V1Pod } from "@kubernetes/client-node";
import type { KubeCluster } from "./cluster-registry.js";
import { MANAGED_SELECTOR } from "./names.js";
import type { RequestCounter } from "./request-counter.js";

/** What happened to a pod, as the watch reports it. */
export type PodEventType = "add" | "update" | "delete";

export interface PodInformerOptions {
  cluster: KubeCluster;
  namespace: string;
  counter: RequestCounter;
  /** Which pods to watch (default: every pod Capstan's executor manages). */
  labelSelector?: string;
  /** Called for every change of a selected pod, in the order the watch delivers them. */
  onEvent: (type: PodEventType, pod: V1Pod) => void;
  /** Called after each successful list (first start and every relist). */
  onSynced?: () => void;
  /** Called when the informer stopped with an error and will be restarted. */
  onError?: (error: unknown, retryInMs: number) => void;
  /** First restart delay; doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** A restartable informer of Capstan's pods in one namespace of one cluster. */
export class PodInformer {
  readonly #options: PodInformerOptions;
  readonly #informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  #backoffMs: number;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #synced = false;
  #failedDuringStart = false;
  #starting: Promise<void> | undefined;
  readonly #syncWaiters = new Set<() => void>();

  constructor(options: PodInformerOptions) {
    this.#options = options;
    this.#backoffMs = options.initialBackoffMs ?? 500;
    const { cluster, namespace, counter } = options;
    const labelSelector = options.labelSelector ?? MANAGED_SELECTOR;
    this.#informer = makeInformer<V1Pod>(
      cluster.config,
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      async () => {
        const list = await cluster.core.listNamespacedPod({ namespace, labelSelector });
        return list;
      },
      labelSelector,
    );
    this.#informer.on("add", (pod) => options.onEvent("add", pod));
    this.#informer.on("update", (pod) => options.onEvent("update", pod));
    this.#informer.on("delete", (pod) => options.onEvent("delete", pod));
    this.#informer.on("connect", () => counter.count("watch"));
    this.#informer.on("error", (error: unknown) => this.#failed(error));
  }

  /** The namespace and cluster watched. */
  get where(): string {
    return `${this.#options.cluster.name}/${this.#options.namespace}`;
  }

  /** Whether the cache reflects the API server (a list succeeded and no error since). */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts listing and watching; resolves after the first attempt (successful or not). */
  start(): Promise<void> {
    this.#starting ??= this.#run();
    return this.#starting;
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    this.#failedDuringStart = false;
    // ListWatch.start() resolves once the list is in the cache and the watch is open, or after
    // reporting an error through the error callback.
    await this.#informer.start();
    if (this.#stopped || this.#failedDuringStart) return;
    this.#synced = true;
    this.#backoffMs = this.#options.initialBackoffMs ?? 500;
    this.#options.onSynced?.();
    for (const waiter of [...this.#syncWaiters]) waiter();
  }

  #failed(error: unknown): void {
    this.#failedDuringStart = true;
    this.#synced = false;
    if (this.#stopped) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.maxBackoffMs ?? 30_000);
    this.#options.onError?.(error, delay);
    if (this.#restartTimer) return;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#starting = this.#run();
    }, delay);
    this.#restartTimer.unref();
  }

  /** Resolves true once synced, or false after `timeoutMs`. */
  whenSynced(timeoutMs: number): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.#syncWaiters.delete(onSync);
        resolve(value);
      };
      const onSync = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.#syncWaiters.add(onSync);
    });
  }

  /** The cached pod of that name, if the watch has seen it. */
  get(name: string): V1Pod | undefined {
    return this.#informer.get(name, this.#options.namespace);
  }

  /** Every cached pod. */
  list(): readonly V1Pod[] {
    return this.#informer.list(this.#options.namespace);
  }

  /** Stops watching for good. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    for (const waiter of [...this.#syncWaiters]) this.#syncWaiters.delete(waiter);
    await this.#informer.stop();
  }
}
