/**
 * Launching: picks scheduled task instances within executor capacity, pools and
 * `max_active_tasks`, records each attempt (state launching) in the transaction that queues its
 * task, then renders the task, resolves its secrets, builds its environment and hands it to the
 * executor. A task that can never start here fails at once, with its reason.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { HADOOP_CONF_FOLDER, writeHadoopConfDir, type HadoopClientConf } from "../connections/index.js";
import { launchEnv, runContextEnv } from "../executors/attempt-env.js";
import { LaunchError, type AttemptLaunch, type AttemptRef, type Executor } from "../executors/executor.js";
import type { TaskSpec } from "../pipelines/index.js";
import type { Attempt, Run, TaskInstance } from "../store/index.js";
import { renderTask, runContextFacts, templateContext, type AttemptContextInput } from "./attempt-context.js";
import type { AttemptEnds } from "./attempt-ends.js";
import { attemptOutputPath, fallbackLogPath, makeAttemptFolders, plannedAttemptPaths, runArtifactsDir } from "./attempt-layout.js";
import type { AttemptTimeouts } from "./attempt-timeouts.js";
import type { PipelineVersion } from "./pipeline-versions.js";
import type { ExecutorRegistry, SchedulerContext } from "./scheduler-context.js";
import type { RecentTaskEnds, SchedulerObserver } from "./scheduler-observer.js";
import { moveTask, type StateChange } from "./task-state.js";

/** Resolves a task's `secrets:` from its team's secrets, and its `connections:` into settings and credentials. */
export interface SecretResolver {
  resolve(team: string, refs: TaskSpec["secrets"]): Promise<Record<string, string>>;
  connections?(team: string, names: readonly string[]): Promise<{ env: Record<string, string>; secretEnv: Record<string, string>; hadoop?: HadoopClientConf }>;
}

export interface AttemptLauncherOptions {
  executors: ExecutorRegistry;
  /** The state directory: attempts/, logs/ and artifacts/ live under it. */
  home: string;
  /** Recorded with each attempt: local attempts are adopted only on their own host. */
  host: string;
  schedulerId: string;
  /** Scheduled task instances considered per pass. */
  batchSize: number;
  secrets: SecretResolver | undefined;
  ends: AttemptEnds;
  timeouts: AttemptTimeouts;
  recentEnds: RecentTaskEnds;
  observer: SchedulerObserver | undefined;
}

export class AttemptLauncher {
  readonly #ctx: SchedulerContext;
  readonly #options: AttemptLauncherOptions;

  constructor(ctx: SchedulerContext, options: AttemptLauncherOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Launches the scheduled task instances that fit, and waits for their launches. */
  async launchScheduled(): Promise<void> {
    const { store, versions } = this.#ctx;
    const { executors } = this.#options;
    const candidates = await store.tasks.listSchedulable(this.#options.batchSize);
    if (candidates.length === 0) return;
    const usage = await store.tasks.activeUsage();
    const pools = new Map((await store.pools.list()).map((p) => [p.name, p.slots]));
    const launches: Promise<void>[] = [];
    const runs = new Map<string, Run | undefined>();
    for (const ti of candidates) {
      if (this.#ctx.isClosed()) break;
      if (!this.#ctx.inScope(ti.runId)) continue;
      if (!runs.has(ti.runId)) runs.set(ti.runId, await store.runs.get(ti.runId));
      const run = runs.get(ti.runId);
      if (run?.state !== "running") continue;
      const version = await versions.get(run.pipelineId, run.version);
      const task = version.spec.tasks[ti.taskId];
      if (!task) continue;
      const active = usage.byPipeline.get(run.pipelineId) ?? 0;
      if (active >= version.spec.maxActiveTasks) continue;
      const slots = pools.get(ti.pool);
      if (slots === undefined) {
        await this.#failWithoutAttempt(ti, `pool ${JSON.stringify(ti.pool)} does not exist; pools: ${[...pools.keys()].join(", ")} (create it with capstan.yaml pools: or the API)`);
        continue;
      }
      if ((usage.byPool.get(ti.pool) ?? 0) + ti.poolSlots > slots) continue;
      const executor = executors.forTask(task);
      if (!executor) {
        await this.#failWithoutAttempt(ti, `executor ${JSON.stringify(executors.nameFor(task))} is not configured; executors: ${executors.names().join(", ")}`);
        continue;
      }
      try {
        if (!executor.canLaunch({ resources: task.resources, task })) continue;
      } catch (error) {
        if (error instanceof LaunchError) {
          await this.#failWithoutAttempt(ti, error.message);
          continue;
        }
        throw error;
      }
      const queued = await this.#queueAttempt(ti, executor, run);
      if (!queued) continue;
      usage.byPipeline.set(run.pipelineId, active + 1);
      usage.byPool.set(ti.pool, (usage.byPool.get(ti.pool) ?? 0) + ti.poolSlots);
      launches.push(this.#startAttempt(run, version, task, executor, queued));
    }
    await Promise.all(launches);
  }

  /** A task that can never start here fails at once, with its reason, without an attempt. */
  async #failWithoutAttempt(ti: TaskInstance, reason: string): Promise<void> {
    const { store, clock } = this.#ctx;
    const changes: StateChange[] = [];
    const now = clock.now();
    await store.transaction((tx) => moveTask(tx, ti, ["scheduled"], "failed", { endedAt: now, reason }, now, changes));
    this.#ctx.log.warn({ run: ti.runId, task: ti.taskId, reason }, "task cannot start");
    this.#ctx.emit(changes);
    this.#ctx.markDirty(ti.runId, [ti.taskId]);
    this.#ctx.wake();
  }

  /** Records the next attempt (state launching) and moves the task to queued, in one transaction. */
  async #queueAttempt(ti: TaskInstance, executor: Executor, run: Run): Promise<Attempt | undefined> {
    const tryNumber = ti.tryNumber + 1;
    const token = randomBytes(12).toString("hex");
    const now = this.#ctx.clock.now();
    const { attemptDir, logPath } = plannedAttemptPaths(this.#options.home, run.id, ti.taskId, tryNumber);
    const changes: StateChange[] = [];
    const attempt: Attempt = {
      runId: ti.runId,
      taskId: ti.taskId,
      tryNumber,
      state: "launching",
      executor: executor.name,
      externalId: `pending:${token}`,
      token,
      host: this.#options.host,
      pid: null,
      pidStart: null,
      attemptDir,
      logPath,
      startedAt: now,
      endedAt: null,
      exitCode: null,
      reason: null,
      killReason: null,
      schedulerId: this.#options.schedulerId,
    };
    const queued = await this.#ctx.store.transaction(async (tx) => {
      const moved = await moveTask(tx, ti, ["scheduled"], "queued", { tryNumber, queuedAt: now, reason: null }, now, changes);
      if (!moved) return false;
      await tx.attempts.insert(attempt);
      return true;
    });
    this.#ctx.emit(changes);
    return queued ? attempt : undefined;
  }

  async #startAttempt(run: Run, version: PipelineVersion, task: TaskSpec, executor: Executor, attempt: Attempt): Promise<void> {
    const { store, clock } = this.#ctx;
    const ref: AttemptRef = { runId: run.id, taskId: task.id, tryNumber: attempt.tryNumber, token: attempt.token };
    let launch: AttemptLaunch;
    try {
      launch = await this.#prepareLaunch(run, version, task, attempt, ref);
    } catch (error) {
      await this.#options.ends.record(executor.name, ref, { outcome: "failed", exitCode: null, reason: (error as Error).message, outputs: null, retryable: false });
      return;
    }
    let info;
    try {
      info = await executor.launch(launch);
    } catch (error) {
      const retryable = error instanceof LaunchError ? error.retryable : true;
      await this.#options.ends.record(executor.name, ref, { outcome: "failed", exitCode: null, reason: `could not start: ${(error as Error).message}`, outputs: null, retryable });
      return;
    }
    const now = clock.now();
    this.#options.observer?.attemptLaunched(executor.name, now - attempt.startedAt, this.#options.recentEnds.hop(run.id, task.dependsOn, now));
    const changes: StateChange[] = [];
    const running = await store.transaction(async (tx) => {
      const updated = await tx.attempts.update(ref, ["launching"], { state: "running", externalId: info.externalId, pid: info.pid ?? null, pidStart: info.pidStart ?? null });
      if (!updated) return false;
      return moveTask(tx, { runId: run.id, taskId: task.id, pipelineId: run.pipelineId }, ["queued"], "running", { startedAt: now }, now, changes);
    });
    this.#ctx.emit(changes);
    if (running) this.#options.timeouts.arm(ref, executor, task, attempt.startedAt);
  }

  /**
   * What the executor is given: the rendered task, its environment (task env, secrets, run
   * context) and its folders, made here. Throws with the reason the attempt fails (not retried).
   */
  async #prepareLaunch(run: Run, version: PipelineVersion, task: TaskSpec, attempt: Attempt, ref: AttemptRef): Promise<AttemptLaunch> {
    const attemptDir = attempt.attemptDir ?? "";
    const artifactsDir = runArtifactsDir(this.#options.home, run.id);
    const outputPath = attemptOutputPath(attemptDir);
    const logPath = attempt.logPath ?? fallbackLogPath(attemptDir);
    const reads = version.outputReads.get(task.id) ?? [];
    const upstream = reads.length > 0 ? await this.#ctx.store.tasks.listByRun(run.id, reads) : [];
    const input: AttemptContextInput = {
      spec: version.spec,
      version: version.version,
      run,
      task,
      tryNumber: attempt.tryNumber,
      outputPath,
      artifactsDir,
      upstreamOutputs: Object.fromEntries(upstream.map((u) => [u.taskId, u.outputs ?? undefined])),
    };
    const rendered = renderTask(task, templateContext(input));
    let secretEnv: Record<string, string> = {};
    if (Object.keys(task.secrets).length > 0) {
      const secrets = this.#options.secrets;
      if (!secrets) throw new Error(`task ${task.id} uses secrets but this scheduler has no secret store`);
      secretEnv = await secrets.resolve(version.spec.team, task.secrets);
    }
    let taskEnv = rendered.env;
    let hadoop: HadoopClientConf | undefined;
    if (task.connections !== undefined && task.connections.length > 0) {
      const resolver = this.#options.secrets;
      if (!resolver?.connections) throw new Error(`task ${task.id} uses connections but this scheduler has no connection store`);
      const connectionEnv = await resolver.connections(version.spec.team, task.connections);
      hadoop = connectionEnv.hadoop;
      taskEnv = { ...connectionEnv.env, ...(hadoop === undefined ? {} : { HADOOP_CONF_DIR: join(attemptDir, HADOOP_CONF_FOLDER) }), ...taskEnv };
      secretEnv = { ...connectionEnv.secretEnv, ...secretEnv };
    }
    const { env, secretNames } = launchEnv({ taskEnv, secretEnv, runContext: runContextEnv(runContextFacts(input)) });
    makeAttemptFolders({ attemptDir, logPath, artifactsDir });
    if (hadoop !== undefined) writeHadoopConfDir(join(attemptDir, HADOOP_CONF_FOLDER), hadoop);
    return {
      ...ref,
      pipelineId: run.pipelineId,
      pipelineVersion: version.version,
      task: rendered,
      baseDir: version.baseDir,
      env,
      secretEnv: secretNames,
      resources: task.resources,
      attemptDir,
      logPath,
      outputPath,
      artifactsDir,
      // A YARN application is killed through the connection's ResourceManager: from the store, never from the task's env.
      ...(hadoop?.resourceManager !== undefined && hadoop.resourceManagerUrl !== undefined
        ? { yarn: { resourceManagerUrl: hadoop.resourceManagerUrl, ...(hadoop.user !== undefined ? { user: hadoop.user } : {}) } }
        : {}),
    };
  }
}
