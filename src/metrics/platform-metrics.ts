/**
 * The platform's Prometheus metrics: one registry per platform (so several platforms in one process,
 * as in tests, never mix figures), filled two ways — events counted as they happen (attempt ends,
 * launches, HTTP requests, Kubernetes requests) and states read from the store when scraped (runs and
 * task instances by active state, queue depth, pool slots), so a replica that just started reports
 * the same current figures as one that has run for days.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the store can answer at scrape time. */
export interface StateCounts {
  /** Runs in each active state (queued, running). */
  runs(): Promise<ReadonlyMap<string, number>>;
  /** Task instances in each active state (scheduled, queued, running, up_for_retry). */
  tasks(): Promise<ReadonlyMap<string, number>>;
  /** Pools: slots and slots in use. */
  pools(): Promise<ReadonlyArray<{ name: string; slots: number; used: number }>>;
}

/** Kubernetes API requests so far, per cluster and kind (create, delete, list, watch, log, …). */
export type KubeRequestCounts = () => ReadonlyArray<{ cluster: string; kind: string; write: boolean; count: number }>;

/** The warm kernel pool's figures, per kernelspec. */
export type KernelPoolFigures = () => ReadonlyArray<{ kernelspec: string; ready: number; starting: number; claimed: number }>;

/** Buckets in seconds for latencies from milliseconds to a minute. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Buckets in seconds for attempt durations from a second to a day. */
const DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600, 86400];

export class PlatformMetrics {
  /** The registry `GET /metrics` answers from. */
  readonly registry = new Registry();
  readonly #finishedRuns: Counter<"state">;
  readonly #finishedTasks: Counter<"state">;
  readonly #attemptDuration: Histogram<"executor" | "outcome">;
  readonly #launchLatency: Histogram<"executor">;
  readonly #hopLatency: Histogram;
  readonly #httpDuration: Histogram<"method" | "route" | "status">;
  #stateCounts: StateCounts | undefined;
  #kubeRequests: KubeRequestCounts | undefined;
  #kernelPool: KernelPoolFigures | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "capstan_" });
    this.#finishedRuns = new Counter({ name: "capstan_runs_finished_total", help: "Runs that reached a final state (success, failed, cancelled), by state", labelNames: ["state"], registers });
    this.#finishedTasks = new Counter({
      name: "capstan_task_instances_finished_total",
      help: "Task instances that reached a final state (success, failed, skipped, upstream_failed, cancelled), by state",
      labelNames: ["state"],
      registers,
    });
    this.#attemptDuration = new Histogram({
      name: "capstan_attempt_duration_seconds",
      help: "Wall time of ended attempts, from queued to ended, by executor and outcome",
      labelNames: ["executor", "outcome"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#launchLatency = new Histogram({
      name: "capstan_attempt_launch_seconds",
      help: "From an attempt being queued to its executor having started it (for kubernetes: the pod created), by executor",
      labelNames: ["executor"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#hopLatency = new Histogram({
      name: "capstan_dependent_hop_seconds",
      help: "From the end of a task's last upstream to the start of the task (measured by the scheduler that saw the upstream end)",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#httpDuration = new Histogram({
      name: "capstan_http_request_duration_seconds",
      help: "API request durations by method, route pattern and status code",
      labelNames: ["method", "route", "status"],
      buckets: LATENCY_BUCKETS,
      registers,
    });

    /** A gauge of one label whose values are read when scraped; nothing is reported while its source is unset. */
    const readGauge = (name: string, help: string, label: string, read: () => Promise<Iterable<[string, number]> | undefined> | Iterable<[string, number]> | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: [label],
        registers,
        async collect() {
          const rows = await read();
          if (!rows) return;
          this.reset();
          for (const [value, n] of rows) this.set({ [label]: value }, n);
        },
      });
    const counts = () => this.#stateCounts;
    readGauge("capstan_runs", "Runs in each active state (queued, running), read from the database", "state", () => counts()?.runs());
    readGauge("capstan_task_instances", "Task instances in each active state (scheduled, queued, running, up_for_retry), read from the database", "state", () => counts()?.tasks());
    new Gauge({
      name: "capstan_queue_depth",
      help: "Task instances ready to run and waiting for a slot (state scheduled)",
      registers,
      async collect() {
        const source = counts();
        if (!source) return;
        this.set((await source.tasks()).get("scheduled") ?? 0);
      },
    });
    const pools = async (pick: (pool: { slots: number; used: number }) => number) => {
      const source = counts();
      return source && (await source.pools()).map((pool): [string, number] => [pool.name, pick(pool)]);
    };
    readGauge("capstan_pool_slots", "Slots of each pool", "pool", () => pools((pool) => pool.slots));
    readGauge("capstan_pool_slots_used", "Slots of each pool taken by queued and running task instances", "pool", () => pools((pool) => pool.used));

    const kube = () => this.#kubeRequests;
    new Gauge({
      // A counter in meaning (it only grows while the process lives); exported from the executor's own tally at scrape time.
      name: "capstan_kube_api_requests_total",
      help: "Requests sent to Kubernetes API servers since start, by cluster, kind (create, delete, patch, update, list, watch, get, log, events) and whether it writes",
      labelNames: ["cluster", "kind", "write"],
      registers,
      collect() {
        const source = kube();
        if (!source) return;
        this.reset();
        for (const row of source()) this.set({ cluster: row.cluster, kind: row.kind, write: String(row.write) }, row.count);
      },
    });

    const kernels = (pick: (row: { ready: number; starting: number; claimed: number }) => number) => this.#kernelPool?.().map((row): [string, number] => [row.kernelspec, pick(row)]);
    readGauge("capstan_notebook_pool_ready_kernels", "Warm kernels ready to be claimed, by kernelspec", "kernelspec", () => kernels((row) => row.ready));
    readGauge("capstan_notebook_pool_starting_kernels", "Warm kernels starting, by kernelspec", "kernelspec", () => kernels((row) => row.starting));
    readGauge("capstan_notebook_pool_claims_total", "Warm kernels claimed by notebook runs since the pool started (hits), by kernelspec", "kernelspec", () => kernels((row) => row.claimed));
  }

  /** Where current states are read from at scrape time. */
  readStatesFrom(source: StateCounts): void {
    this.#stateCounts = source;
  }

  /** Where Kubernetes request counts are read from at scrape time. */
  readKubeRequestsFrom(source: KubeRequestCounts): void {
    this.#kubeRequests = source;
  }

  /** Where the warm kernel pool's figures are read from at scrape time. */
  readKernelPoolFrom(source: KernelPoolFigures | undefined): void {
    this.#kernelPool = source;
  }

  runFinished(state: string): void {
    this.#finishedRuns.inc({ state });
  }

  taskFinished(state: string): void {
    this.#finishedTasks.inc({ state });
  }

  attemptLaunched(executor: string, queuedToLaunchedMs: number, hopMs: number | null): void {
    this.#launchLatency.observe({ executor }, Math.max(0, queuedToLaunchedMs) / 1000);
    if (hopMs !== null) this.#hopLatency.observe(Math.max(0, hopMs) / 1000);
  }

  attemptEnded(executor: string, outcome: string, durationMs: number): void {
    this.#attemptDuration.observe({ executor, outcome }, Math.max(0, durationMs) / 1000);
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.#httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  /** The text exposition format. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
