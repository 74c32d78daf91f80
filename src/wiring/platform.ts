/**
 * The platform assembled from its configuration: the store, the pipeline registry, the executors,
 * the scheduler, the sandbox service (running sandboxes adopted when it opens) and the team volumes. `capstan up`, in-process CLI commands and tests all open it the same way.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { systemClock, type Clock } from "../clock/index.js";
import { INSTALL_ROOT, type CapstanConfig } from "../config/index.js";
import type { Executor } from "../executors/index.js";
import { createLocalExecutor } from "../executors/local/index.js";
import { TaskBoundary } from "../executors/local/task-user.js";
// Loaded only when clusters are configured (or the caller gives a Kubernetes executor): its client is large.
import type { KubernetesExecutor } from "../executors/kubernetes/index.js";
import { PlatformMetrics } from "../metrics/index.js";
import { formatIssue, PipelineRegistry, type PipelineSpec, type RegistryChange, type SpecCheck, type ValidationIssue } from "../pipelines/index.js";
import { Scheduler } from "../scheduler/index.js";
import { ModelStorage, TaskModelRegistrar } from "../models/index.js";
import { loadSecretKey, LogMasking, SecretService } from "../secrets/index.js";
import { taskSecretResolver } from "../connections/index.js";
import { openStreams } from "./streams.js";
import { KAFKA_SENSOR_EXECUTOR_NAME } from "../sensors/index.js";
import { openSensors } from "./sensors.js";
import type { KafkaTriggers } from "../streams/index.js";
import type { IdleCuller, SandboxService } from "../sandboxes/index.js";
import { openSandboxes } from "./sandboxes.js";
import type { VolumeRegistry } from "../storage/index.js";
import { openVolumes } from "./volumes.js";
import { ensurePrivateHome } from "./private-home.js";
import { checkoutCommitOf, type PipelineGitSync } from "../git-sync/index.js";
import { openPipelineGit } from "./pipelines-git.js";
import { isFinishedRun, isFinishedTask, Store } from "../store/index.js";

export interface OpenPlatformOptions {
  config: CapstanConfig;
  clock?: Clock;
  logger?: Logger;
  /** The streamWrite hook of `logger`, attached here to the secrets service so the log shows no secret value. */
  logMasking?: LogMasking;
  /** Executors to use beside (or instead of) the local one, by name. */
  executors?: Map<string, Executor>;
  /** Extra environment for notebook tasks (set by `capstan up` for its warm kernel pool). */
  notebookEnv?: Record<string, string>;
  /** Restricts scheduling to these runs (see SchedulerOptions.onlyRuns). */
  onlyRuns?: Set<string>;
  /** Checks of pipeline files against this platform beyond the built-in ones. */
  specChecks?: SpecCheck[];
}

/** Every task must name an executor this platform has. */
function executorCheck(executors: ReadonlyMap<string, Executor>, defaultExecutor: string): SpecCheck {
  return (spec: PipelineSpec) => {
    const issues: ValidationIssue[] = [];
    for (const task of Object.values(spec.tasks)) {
      // A kafka_sensor is waited on by the platform itself, whatever the default executor.
      if (task.kind === "kafka_sensor") continue;
      const name = task.executor ?? defaultExecutor;
      if (executors.has(name)) continue;
      const hint = name === "kubernetes" ? "; configure clusters: in capstan.yaml to run tasks as pods" : "";
      issues.push({ path: ["tasks", task.id, "executor"], message: `task ${task.id}: executor ${JSON.stringify(name)} is not configured here; available: ${[...executors.keys()].filter((n) => n !== KAFKA_SENSOR_EXECUTOR_NAME).join(", ")}${hint}` });
    }
    return issues;
  };
}

/** Variables beside CAPSTAN_* through which the platform may hold a credential (PostgreSQL's). */
const PLATFORM_CREDENTIALS = new Set(["PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE", "DATABASE_URL"]);

/** Environment variables of the platform itself that tasks must never see. */
export function taskBaseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("CAPSTAN_") || PLATFORM_CREDENTIALS.has(name)) continue;
    env[name] = value;
  }
  return env;
}

/** The argv prefix that runs this installation's CLI. */
export function capstanCommand(): string[] {
  return [process.execPath, join(INSTALL_ROOT, "bin", "capstan.js")];
}

/** Feeds the metrics: final states as the scheduler writes them, current states from the store when scraped. */
function observeState(metrics: PlatformMetrics, store: Store, scheduler: Scheduler, kubernetes: KubernetesExecutor | undefined): void {
  scheduler.events.on("change", (change) => {
    if (change.kind === "run" && isFinishedRun(change.state)) metrics.runFinished(change.state);
    else if (change.kind === "task" && isFinishedTask(change.state)) metrics.taskFinished(change.state);
  });
  metrics.readStatesFrom({
    runs: () => store.runs.countInStates(["queued", "running"]),
    tasks: () => store.tasks.countInStates(["scheduled", "queued", "running", "up_for_retry"]),
    pools: async () => {
      const [usage, pools] = await Promise.all([store.tasks.activeUsage(), store.pools.list()]);
      return pools.map((p) => ({ name: p.name, slots: p.slots, used: usage.byPool.get(p.name) ?? 0 }));
    },
  });
  if (kubernetes) metrics.readKubeRequestsFrom(() => kubernetes.clusters.counter.perCluster());
}

export class Platform {
  private constructor(
    readonly config: CapstanConfig,
    readonly store: Store,
    readonly registry: PipelineRegistry,
    readonly scheduler: Scheduler,
    readonly executors: Map<string, Executor>,
    readonly logger: Logger,
    readonly clock: Clock,
    readonly secrets: SecretService,
    /** Prometheus metrics (`GET /metrics`). */
    readonly metrics: PlatformMetrics,
    /** How local tasks are kept out of the platform's home (see docs/security.md). */
    readonly taskBoundary: TaskBoundary,
    /** Personal JupyterLab sandboxes (docs/sandboxes.md). */
    readonly sandboxes: SandboxService,
    readonly idleCuller: IdleCuller,
    /** Team volumes from capstan.yaml (docs/storage.md). */
    readonly volumes: VolumeRegistry,
    /** `pipelines.git`: the branch kept checked out and loaded (docs/pipelines.md). */
    readonly pipelineGit: PipelineGitSync | undefined,
  ) {}

  /** Runs triggered by Kafka topics (docs/streams.md); none in a process that schedules only some runs. */
  streams: KafkaTriggers | undefined;

  /** Opens the store (migrating it), loads pipelines, and builds the scheduler (not yet started). */
  static async open(options: OpenPlatformOptions): Promise<Platform> {
    const { config } = options;
    const ownMasking = new LogMasking();
    const logMasking = options.logger ? options.logMasking : ownMasking;
    const logger = options.logger ?? pino({ level: process.env.CAPSTAN_LOG_LEVEL ?? "info", hooks: { streamWrite: ownMasking.streamWrite } }, pino.destination(2));
    const clock = options.clock ?? systemClock;
    ensurePrivateHome(config.home, config.databaseUrl);
    const store = await Store.open({ url: config.databaseUrl });
    try {
      for (const [name, pool] of Object.entries(config.pools)) {
        await store.pools.upsert(name, pool.slots, pool.description ?? null, clock.now());
      }
      const executors = new Map(options.executors ?? []);
      let taskBoundary = TaskBoundary.none(config.home, "the local executor was configured by the caller");
      if (!executors.has("local")) {
        taskBoundary = TaskBoundary.resolve({ home: config.home, runAs: config.local.runAs, isolation: config.local.isolation, warn: (message) => logger.warn(message) });
        logger.info({ mode: taskBoundary.mode }, `local executor: ${taskBoundary.description}`);
        const unusable = taskBoundary.checkProgram(config.python, ["-c", ""]);
        if (unusable) logger.warn(`local executor: python tasks and notebooks will fail: ${unusable}`);
        // Warm kernels run outside a task's boundary: a task claiming one would escape it.
        const notebookEnv = { ...options.notebookEnv };
        if (taskBoundary.active) delete notebookEnv.CAPSTAN_KERNEL_POOL_DIR;
        executors.set(
          "local",
          await createLocalExecutor(config.local, {
            python: config.python,
            capstan: capstanCommand(),
            killGraceMs: config.killGraceMs,
            baseEnv: taskBaseEnv(),
            notebookEnv: { CAPSTAN_PYTHON: config.python, ...notebookEnv },
            boundary: taskBoundary,
            launcherPython: process.env.CAPSTAN_LAUNCHER === "node" ? null : config.python,
            logger,
          }),
        );
      }
      const kube = executors.has("kubernetes") || Object.keys(config.clusters).length > 0 ? await import("../executors/kubernetes/index.js") : undefined;
      if (kube && !executors.has("kubernetes")) {
        executors.set("kubernetes", kube.createKubernetesExecutor(config, { logger, clock, sparkPython: config.python }));
      }
      const given = executors.get("kubernetes");
      const kubernetes = kube && given instanceof kube.KubernetesExecutor ? given : undefined;
      const checks = [executorCheck(executors, config.defaultExecutor), ...(kubernetes ? [kubernetes.specCheck(config.defaultExecutor)] : []), ...(options.specChecks ?? [])];
      const secrets = new SecretService(store, loadSecretKey(config.home), () => clock.now());
      logMasking?.attach(secrets);
      // The log masks with the values known when a line is written: read them before anything runs.
      await secrets.mask().catch((error: unknown) => logger.warn({ err: error }, "could not read the secrets to mask"));
      if (!executors.has(KAFKA_SENSOR_EXECUTOR_NAME)) executors.set(KAFKA_SENSOR_EXECUTOR_NAME, openSensors({ store, secrets, clock, logger }));
      const metrics = new PlatformMetrics();
      // A new commit of pipelines.git loads the files again once the platform exists.
      const opened: { platform?: Platform } = {};
      const pipelineGit = openPipelineGit(config, secrets, logger, async () => {
        const target = opened.platform;
        if (target === undefined) return;
        const change = await target.reloadPipelines();
        if (change.loaded.length > 0 || change.removed.length > 0) target.scheduler.pipelinesChanged();
      });
      const registry = new PipelineRegistry({
        paths: config.pipelines,
        ...(pipelineGit ? { linkedPaths: [pipelineGit.pipelinesDir] } : {}),
        check: (spec) => checks.flatMap((check) => check(spec)),
        loadTimeoutMs: config.pipelineLoadTimeoutMs,
      });
      const volumes = openVolumes(config, secrets);
      const scheduler = new Scheduler({
        store,
        clock,
        pipelines: registry,
        executors,
        defaultExecutor: config.defaultExecutor,
        home: config.home,
        logger,
        host: hostname(),
        sweepIntervalMs: config.sweepIntervalMs,
        ...(options.onlyRuns ? { onlyRuns: options.onlyRuns } : {}),
        secrets: taskSecretResolver(store, secrets),
        observer: metrics,
        models: new TaskModelRegistrar({ store, home: config.home, storage: new ModelStorage({ home: config.home, volumes, stores: config.modelStores }) }),
      });
      observeState(metrics, store, scheduler, kubernetes);
      const { sandboxes, idleCuller } = await openSandboxes({ config, store, clock, logger });
      const platform = new Platform(config, store, registry, scheduler, executors, logger, clock, secrets, metrics, taskBoundary, sandboxes, idleCuller, volumes, pipelineGit);
      if (!options.onlyRuns) platform.streams = openStreams({ store, secrets, registry, scheduler, metrics, logger, home: config.home });
      if (pipelineGit) {
        // The checkout a previous start left is loaded even when the remote cannot be reached now.
        await pipelineGit.adoptCheckout();
        await pipelineGit.sync("start");
      }
      await platform.reloadPipelines();
      opened.platform = platform;
      return platform;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /** Loads the pipeline files again and records versions and file errors in the store. */
  async reloadPipelines(): Promise<RegistryChange> {
    const change = await this.registry.load();
    await this.#record(change);
    return change;
  }

  async #record(change: RegistryChange): Promise<void> {
    const now = this.clock.now();
    for (const loaded of change.loaded) {
      await this.store.pipelines.upsert(
        {
          id: loaded.spec.id,
          team: loaded.spec.team,
          version: loaded.version,
          file: loaded.file,
          baseDir: loaded.baseDir,
          description: loaded.spec.description ?? null,
          scheduleText: loaded.spec.schedule?.text ?? null,
          spec: JSON.stringify(loaded.spec),
          source: loaded.source,
          commit: this.pipelineGit === undefined ? null : checkoutCommitOf(loaded.file),
        },
        now,
      );
      this.logger.info({ pipeline: loaded.spec.id, version: loaded.version, file: loaded.file }, "pipeline loaded");
    }
    await this.store.pipelines.markInactive(change.removed, now);
    const errors = this.registry.errors();
    const git = this.pipelineGit?.status();
    const gitError = git?.lastError === undefined ? [] : [{ file: `${git.url}#${git.branch}`, pipelineId: null, message: git.lastError, issues: [] }];
    await this.store.pipelines.replaceLoadErrors([...errors.map((e) => ({ file: e.file, pipelineId: null, message: e.message, issues: [...e.issues] })), ...gitError], now);
    for (const error of change.errors) {
      for (const issue of error.issues) this.logger.error(formatIssue(error.file, issue));
    }
  }

  /** Starts scheduling; with `watch`, edits of pipeline files load without a restart. */
  async start(options: { watch?: boolean } = {}): Promise<void> {
    await this.scheduler.start();
    this.streams?.start();
    this.pipelineGit?.startTimer();
    if (options.watch) {
      this.registry.watch(
        (change) => {
          this.#record(change).then(
            () => {
              if (change.loaded.length > 0 || change.removed.length > 0) this.scheduler.pipelinesChanged();
            },
            (error: unknown) => this.logger.error({ err: error }, "could not record pipeline changes"),
          );
        },
        (error) => this.logger.error({ err: error }, "pipeline folder watch failed"),
      );
    }
  }

  /** Stops scheduling and closes the store; running attempts and sandboxes keep running. */
  async close(): Promise<void> {
    await this.streams?.close();
    await this.pipelineGit?.close();
    this.registry.close();
    await this.idleCuller.close();
    await this.scheduler.stop();
    await this.sandboxes.close();
    for (const executor of this.executors.values()) await executor.close();
    await this.store.close();
  }
}
