/**
 * The scheduler: creates runs from schedules, decides which task instances may run (trigger rules,
 * retries, pools, limits), launches attempts on executors and records how they end.
 *
 * It is event-driven: an ended attempt, a new run or a command wakes one scheduling pass at once;
 * time-based work (cron ticks, retry delays, timeouts) uses the injected clock's timers. State lives
 * in the store and every change is one transaction, so a restarted scheduler (or a second one on
 * PostgreSQL) continues from the database: `start()` adopts attempts that are still running.
 */
import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import type { Clock, ClockTimer } from "../clock/index.js";
import { launchEnv, runContextEnv } from "../executors/attempt-env.js";
import { attemptKey, LaunchError, type AttemptEnd, type AttemptLaunch, type AttemptRef, type Executor, type StoredAttempt } from "../executors/executor.js";
import { formatDuration, ParamError, resolveParams, type TaskSpec } from "../pipelines/index.js";
import { isFinishedRun, isFinishedTask, type Attempt, type ChangeMessage, type Run, type Store, type TaskInstance, type TaskState } from "../store/index.js";
import { renderTask, runContextFacts, templateContext } from "./attempt-context.js";
import { ConflictError, InvalidRequestError, NotFoundError } from "./errors.js";
import { PipelineVersions, type PipelineSource, type PipelineVersion } from "./pipeline-versions.js";
import { retryDelayMs } from "./retry-policy.js";
import { RecentTaskEnds, type SchedulerObserver } from "./scheduler-observer.js";
import { buildRun, intervalRunKey, manualDataInterval, type RunRequest } from "./run-factory.js";
import { moveRun, moveTask, type StateChange } from "./task-state.js";
import { intervalsBetween, nextDataInterval } from "./timetable.js";
import { evaluateTriggerRule, finishedRunState } from "./trigger-rules.js";

export interface SchedulerOptions {
  store: Store;
  clock: Clock;
  pipelines: PipelineSource;
  /** Executors by name; tasks pick one with `executor:`, else `defaultExecutor`. */
  executors: ReadonlyMap<string, Executor>;
  defaultExecutor: string;
  /** The state directory: attempts/, logs/ and artifacts/ live under it. */
  home: string;
  logger: Logger;
  /** Identifies this scheduler in attempt rows. */
  schedulerId?: string;
  host: string;
  /** Scheduled task instances considered per pass. */
  batchSize?: number;
  /**
   * A safety pass every this many ms (for several schedulers sharing PostgreSQL, which cannot wake
   * each other); 0 (the default) relies on events and timers alone.
   */
  sweepIntervalMs?: number;
  /**
   * Limits the scheduler to these runs (a one-off `capstan run --wait` without a daemon): other runs
   * are left alone and no scheduled runs are created. Runs can be added after start.
   */
  onlyRuns?: Set<string>;
  /** Fills tasks' `secrets:` from the team's secrets when an attempt starts. */
  secrets?: { resolve(team: string, refs: TaskSpec["secrets"]): Promise<Record<string, string>> };
  /** Told of attempt launches and ends (the platform's metrics). */
  observer?: SchedulerObserver;
}

/** Options of a manual trigger. */
export interface TriggerOptions {
  params?: Record<string, unknown>;
  logicalDate?: number;
  trigger?: "manual" | "api";
  createdBy?: string | null;
  note?: string | null;
}

export interface BackfillResult {
  created: Run[];
  /** Logical dates (ISO) that already had a run and were left alone. */
  existing: string[];
}

interface DirtyRun {
  all: boolean;
  tasks: Set<string>;
}

const TERMINAL_ATTEMPT_FOR: Record<AttemptEnd["outcome"], "success" | "failed" | "skipped" | "lost"> = {
  success: "success",
  failed: "failed",
  skipped: "skipped",
  lost: "lost",
};

export class Scheduler {
  readonly events = new EventEmitter<{ change: [StateChange] }>();
  readonly versions: PipelineVersions;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #executors: ReadonlyMap<string, Executor>;
  readonly #defaultExecutor: string;
  readonly #home: string;
  readonly #log: Logger;
  readonly #schedulerId: string;
  readonly #host: string;
  readonly #batchSize: number;
  readonly #sweepIntervalMs: number;
  readonly #onlyRuns: Set<string> | undefined;
  readonly #secrets: SchedulerOptions["secrets"];
  readonly #observer: SchedulerObserver | undefined;
  readonly #recentEnds = new RecentTaskEnds();

  #started = false;
  #closed = false;
  #passRunning = false;
  #passAgain = false;
  #passQueued = false;
  #idle: Promise<void> = Promise.resolve();
  #resolveIdle: (() => void) | undefined;
  readonly #pending = new Set<Promise<unknown>>();

  readonly #dirty = new Map<string, DirtyRun>();
  #runsChanged = true;
  #retriesDue = true;
  #retryTimer: { at: number; timer: ClockTimer } | undefined;
  #sweepTimer: ClockTimer | undefined;
  readonly #scheduleTimers = new Map<string, { at: number; timer: ClockTimer }>();
  readonly #timeouts = new Map<string, ClockTimer>();
  /** changes written here and not yet announced to other processes on the database */
  #outbox: StateChange[] = [];
  #stopListening: (() => void) | undefined;

  constructor(options: SchedulerOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#executors = options.executors;
    this.#defaultExecutor = options.defaultExecutor;
    this.#home = options.home;
    this.#log = options.logger;
    this.#schedulerId = options.schedulerId ?? `sched-${randomBytes(4).toString("hex")}`;
    this.#host = options.host;
    this.#batchSize = options.batchSize ?? 256;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 0;
    this.#onlyRuns = options.onlyRuns;
    this.#secrets = options.secrets;
    this.#observer = options.observer;
    this.versions = new PipelineVersions(options.store, options.pipelines);
    for (const [name, executor] of this.#executors) {
      executor.onAttemptEnd((ref, end) => this.#track(this.#onAttemptEnd(name, ref, end)));
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Adopts attempts left running by a previous scheduler, then starts scheduling. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#reconcile();
    for (const run of await this.#store.runs.listInStates(["running"])) this.#markDirty(run.id, null);
    this.#checkAllSchedules();
    if (this.#sweepIntervalMs > 0) this.#armSweep();
    this.#stopListening = this.#store.changes?.listen(
      (message) => this.#heard(message),
      (problem) => this.#log.warn(problem),
    );
    this.wake();
  }

  /**
   * Stops scheduling and waits for the pass and bookkeeping in flight. Running attempts keep
   * running; the next start adopts them.
   */
  async stop(): Promise<void> {
    this.#closed = true;
    for (const { timer } of this.#scheduleTimers.values()) timer.clear();
    for (const timer of this.#timeouts.values()) timer.clear();
    this.#retryTimer?.timer.clear();
    this.#sweepTimer?.clear();
    this.#stopListening?.();
    await this.#idle;
    this.#flushOutbox();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Resolves once no scheduling pass is running or queued (for tests and in-process waits). */
  async settled(): Promise<void> {
    for (;;) {
      await this.#idle;
      if (this.#pending.size > 0) {
        await Promise.allSettled([...this.#pending]);
        continue;
      }
      if (!this.#passRunning && !this.#passQueued) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Asks for a scheduling pass as soon as possible; passes never overlap. */
  wake(): void {
    if (this.#closed || !this.#started) return;
    if (this.#passRunning) {
      this.#passAgain = true;
      return;
    }
    if (this.#passQueued) return;
    this.#passQueued = true;
    if (!this.#resolveIdle) this.#idle = new Promise((resolve) => (this.#resolveIdle = resolve));
    setImmediate(() => {
      this.#passQueued = false;
      void this.#runPasses();
    });
  }

  /** Re-reads schedules after the set of loaded pipelines changed. */
  pipelinesChanged(): void {
    this.#checkAllSchedules();
    this.wake();
  }

  async #runPasses(): Promise<void> {
    this.#passRunning = true;
    try {
      do {
        this.#passAgain = false;
        try {
          await this.#pass();
        } catch (error) {
          this.#log.error({ err: error }, "scheduling pass failed; retrying in 1s");
          if (!this.#closed) this.#clock.setTimer(this.#clock.now() + 1000, () => this.wake());
        }
      } while (this.#passAgain && !this.#closed);
    } finally {
      this.#passRunning = false;
      if (!this.#passQueued) {
        const resolve = this.#resolveIdle;
        this.#resolveIdle = undefined;
        resolve?.();
      }
    }
  }

  async #pass(): Promise<void> {
    if (this.#runsChanged) {
      this.#runsChanged = false;
      await this.#startQueuedRuns();
    }
    if (this.#retriesDue) {
      this.#retriesDue = false;
      await this.#releaseDueRetries();
    }
    await this.#evaluateDirtyRuns();
    await this.#launchScheduled();
    await this.#armRetryTimer();
  }

  #track<T>(promise: Promise<T>): void {
    const tracked = promise.then(
      () => undefined,
      (error: unknown) => this.#log.error({ err: error }, "scheduler bookkeeping failed"),
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  #emit(changes: readonly StateChange[]): void {
    for (const change of changes) this.events.emit("change", change);
    const feed = this.#store.changes;
    if (!feed || changes.length === 0) return;
    // Announced once per turn of the event loop, whatever the number of transactions in it.
    if (this.#outbox.length === 0) setImmediate(() => this.#flushOutbox());
    this.#outbox.push(...changes);
  }

  #flushOutbox(): void {
    const feed = this.#store.changes;
    if (!feed || this.#outbox.length === 0) return;
    const batch = this.#outbox;
    this.#outbox = [];
    this.#track(feed.announce(this.#schedulerId, batch).catch((error: unknown) => this.#log.warn({ err: error }, "could not announce changes to other schedulers")));
  }

  /** Another process on the database wrote changes: look at their runs now, and tell live views. */
  #heard(message: ChangeMessage): void {
    if (message.from === this.#schedulerId || this.#closed) return;
    for (const change of message.changes) {
      if (!isStateChange(change)) continue;
      this.#markDirty(change.runId, null);
      if (change.kind === "run") this.#runsChanged = true;
      this.events.emit("change", change);
    }
    this.wake();
  }

  #inScope(runId: string): boolean {
    return this.#onlyRuns === undefined || this.#onlyRuns.has(runId);
  }

  #markDirty(runId: string, tasks: Iterable<string> | null): void {
    if (!this.#inScope(runId)) return;
    const entry = this.#dirty.get(runId) ?? { all: false, tasks: new Set<string>() };
    if (tasks === null) entry.all = true;
    else for (const t of tasks) entry.tasks.add(t);
    this.#dirty.set(runId, entry);
  }

  // ---------------------------------------------------------------- schedules

  #checkAllSchedules(): void {
    if (this.#onlyRuns !== undefined) return;
    const ids = new Set(this.versions.source.list().map((p) => p.spec.id));
    for (const [id, entry] of this.#scheduleTimers) {
      if (!ids.has(id)) {
        entry.timer.clear();
        this.#scheduleTimers.delete(id);
      }
    }
    for (const id of ids) this.#track(this.#checkSchedule(id));
  }

  /** Creates the scheduled runs that are due for one pipeline and arms a timer for the next. */
  async #checkSchedule(pipelineId: string): Promise<void> {
    if (this.#closed || this.#onlyRuns !== undefined) return;
    const version = this.versions.current(pipelineId);
    const spec = version?.spec;
    if (!version || !spec?.schedule || spec.startDate === null) return;
    const row = await this.#store.pipelines.get(pipelineId);
    if (row?.paused === 1) return;
    for (let guard = 0; guard < 1000; guard++) {
      const lastEnd = await this.#store.runs.lastScheduledIntervalEnd(pipelineId);
      const now = this.#clock.now();
      const interval = nextDataInterval(spec.schedule, spec.timezone, { lastEnd, startDate: spec.startDate, endDate: spec.endDate, catchup: spec.catchup, now });
      if (!interval) return;
      if (interval.end > now) {
        this.#armScheduleTimer(pipelineId, interval.end);
        return;
      }
      const active = (await this.#store.runs.activeCounts()).get(pipelineId);
      if (active && active.queued + active.running >= spec.maxActiveRuns) return; // re-checked when a run ends
      const request: RunRequest = { trigger: "scheduled", runKey: intervalRunKey(interval), logicalDate: interval.start, interval, params: resolveParams(spec.params, {}) };
      const { run, tasks } = buildRun(version, request, now);
      const created = await this.#store.transaction((tx) => tx.runs.insert(run, tasks));
      if (!created) {
        // Another scheduler made it, or a backfill already covered this interval: the schedule moves on only through scheduled runs.
        const existing = await this.#store.runs.findByKey(pipelineId, request.runKey ?? "");
        if (existing?.trigger !== "scheduled") {
          this.#log.warn({ pipeline: pipelineId, interval: new Date(interval.start).toISOString() }, "interval already has a backfill or manual run; scheduling it anyway is skipped");
          this.#armScheduleTimer(pipelineId, now + 60_000);
        }
        return;
      }
      this.#log.info({ pipeline: pipelineId, run: run.id, logicalDate: new Date(interval.start).toISOString() }, "scheduled run created");
      this.#emit([{ kind: "run", runId: run.id, pipelineId, state: "queued" }]);
      this.#runsChanged = true;
      this.wake();
    }
  }

  #armScheduleTimer(pipelineId: string, at: number): void {
    const existing = this.#scheduleTimers.get(pipelineId);
    if (existing && existing.at === at) return;
    existing?.timer.clear();
    const timer = this.#clock.setTimer(at, () => {
      this.#scheduleTimers.delete(pipelineId);
      this.#track(this.#checkSchedule(pipelineId));
    });
    this.#scheduleTimers.set(pipelineId, { at, timer });
  }

  #armSweep(): void {
    this.#sweepTimer = this.#clock.setTimer(this.#clock.now() + this.#sweepIntervalMs, () => {
      if (this.#closed) return;
      this.#runsChanged = true;
      this.#retriesDue = true;
      void this.#store.runs.listInStates(["running"]).then((runs) => {
        for (const run of runs) this.#markDirty(run.id, null);
        this.wake();
      }, (error: unknown) => this.#log.error({ err: error }, "sweep failed"));
      this.#checkAllSchedules();
      this.#armSweep();
    });
  }

  // ---------------------------------------------------------------- runs

  async #startQueuedRuns(): Promise<void> {
    const queued = await this.#store.runs.listInStates(["queued"]);
    if (queued.length === 0) return;
    const counts = await this.#store.runs.activeCounts();
    const changes: StateChange[] = [];
    for (const run of queued) {
      if (!this.#inScope(run.id)) continue;
      const version = await this.versions.get(run.pipelineId, run.version);
      const running = counts.get(run.pipelineId)?.running ?? 0;
      if (running >= version.spec.maxActiveRuns) continue;
      const moved = await this.#store.transaction((tx) => moveRun(tx, run, ["queued"], "running", { startedAt: run.startedAt ?? this.#clock.now(), endedAt: null }, this.#clock.now(), changes));
      if (moved) {
        counts.set(run.pipelineId, { queued: 0, running: running + 1 });
        this.#markDirty(run.id, null);
      }
    }
    this.#emit(changes);
  }

  /** Applies trigger rules to the task instances of changed runs, and finishes runs that are done. */
  async #evaluateDirtyRuns(): Promise<void> {
    while (this.#dirty.size > 0) {
      const batch = [...this.#dirty];
      this.#dirty.clear();
      for (const [runId, dirty] of batch) await this.#evaluateRun(runId, dirty);
    }
  }

  async #evaluateRun(runId: string, dirty: DirtyRun): Promise<void> {
    const run = await this.#store.runs.get(runId);
    if (run?.state !== "running") return;
    const version = await this.versions.get(run.pipelineId, run.version);
    const { dag, spec } = version;
    const candidates = dirty.all ? new Set(dag.tasks) : new Set([...dirty.tasks].flatMap((t) => [t, ...dag.downstream(t)]));
    const now = this.#clock.now();
    const changes: StateChange[] = [];
    const key = (taskId: string) => ({ runId, taskId, pipelineId: run.pipelineId });
    await this.#store.transaction(async (tx) => {
      // Only the candidates and their upstreams are read, so one ended task in a large run costs
      // a few rows, not the whole run.
      const states = new Map<string, TaskState>();
      const load = async (ids: Iterable<string>) => {
        const missing = [...new Set(ids)].filter((id) => !states.has(id));
        if (missing.length === 0) return;
        for (const ti of await tx.tasks.listByRun(runId, missing)) states.set(ti.taskId, ti.state);
      };
      if (dirty.all) await load(dag.tasks);
      else await load([...candidates].flatMap((t) => [t, ...dag.upstream(t)]));
      for (const taskId of spec.taskOrder) {
        if (!candidates.has(taskId)) continue;
        await load([taskId, ...dag.upstream(taskId)]);
        if (states.get(taskId) !== "none") continue;
        const task = spec.tasks[taskId];
        if (!task) continue;
        const upstream = dag.upstream(taskId).map((u) => states.get(u) ?? "none");
        const decision = evaluateTriggerRule(task.triggerRule, upstream);
        if (decision === "wait") continue;
        const to: TaskState = decision === "run" ? "scheduled" : decision === "skip" ? "skipped" : "upstream_failed";
        const patch = to === "scheduled" ? { scheduledAt: now } : { endedAt: now, reason: to === "skipped" ? `skipped by trigger rule ${task.triggerRule}` : `an upstream task failed (trigger rule ${task.triggerRule})` };
        if (await moveTask(tx, key(taskId), ["none"], to, patch, now, changes)) {
          states.set(taskId, to);
          if (to !== "scheduled") for (const d of dag.downstream(taskId)) candidates.add(d);
        }
      }
      const counts = await tx.tasks.countByState(runId);
      if ([...counts.keys()].every(isFinishedTask)) {
        await load(dag.leaves());
        const state = finishedRunState(dag.leaves().map((t) => states.get(t) ?? "none"));
        await moveRun(tx, run, ["running"], state, { endedAt: now }, now, changes);
      }
    });
    this.#emit(changes);
    const finished = changes.find((c) => c.kind === "run");
    if (finished) {
      this.#runsChanged = true;
      this.#log.info({ run: runId, state: finished.state }, "run finished");
      this.#track(this.#checkSchedule(run.pipelineId));
      this.wake();
    }
  }

  async #releaseDueRetries(): Promise<void> {
    const due = await this.#store.tasks.listDueRetries(this.#clock.now());
    if (due.length === 0) return;
    const changes: StateChange[] = [];
    const now = this.#clock.now();
    await this.#store.transaction(async (tx) => {
      for (const ti of due) await moveTask(tx, ti, ["up_for_retry"], "scheduled", { scheduledAt: now, nextRetryAt: null }, now, changes);
    });
    this.#emit(changes);
  }

  async #armRetryTimer(): Promise<void> {
    const at = await this.#store.tasks.nextRetryAt();
    if (at === null) return;
    if (this.#retryTimer && this.#retryTimer.at <= at) return;
    this.#retryTimer?.timer.clear();
    const timer = this.#clock.setTimer(at, () => {
      this.#retryTimer = undefined;
      this.#retriesDue = true;
      this.wake();
    });
    this.#retryTimer = { at, timer };
  }

  // ---------------------------------------------------------------- launching

  #executorFor(task: TaskSpec): Executor | undefined {
    return this.#executors.get(task.executor ?? this.#defaultExecutor);
  }

  async #launchScheduled(): Promise<void> {
    const candidates = await this.#store.tasks.listSchedulable(this.#batchSize);
    if (candidates.length === 0) return;
    const usage = await this.#store.tasks.activeUsage();
    const pools = new Map((await this.#store.pools.list()).map((p) => [p.name, p.slots]));
    const launches: Promise<void>[] = [];
    const runs = new Map<string, Run | undefined>();
    for (const ti of candidates) {
      if (this.#closed) break;
      if (!this.#inScope(ti.runId)) continue;
      if (!runs.has(ti.runId)) runs.set(ti.runId, await this.#store.runs.get(ti.runId));
      const run = runs.get(ti.runId);
      if (run?.state !== "running") continue;
      const version = await this.versions.get(run.pipelineId, run.version);
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
      const executor = this.#executorFor(task);
      if (!executor) {
        await this.#failWithoutAttempt(ti, `executor ${JSON.stringify(task.executor ?? this.#defaultExecutor)} is not configured; executors: ${[...this.#executors.keys()].join(", ")}`);
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
    const changes: StateChange[] = [];
    const now = this.#clock.now();
    await this.#store.transaction((tx) => moveTask(tx, ti, ["scheduled"], "failed", { endedAt: now, reason }, now, changes));
    this.#log.warn({ run: ti.runId, task: ti.taskId, reason }, "task cannot start");
    this.#emit(changes);
    this.#markDirty(ti.runId, [ti.taskId]);
    this.wake();
  }

  /** Records the next attempt (state launching) and moves the task to queued, in one transaction. */
  async #queueAttempt(ti: TaskInstance, executor: Executor, run: Run): Promise<Attempt | undefined> {
    const tryNumber = ti.tryNumber + 1;
    const token = randomBytes(12).toString("hex");
    const now = this.#clock.now();
    const attemptDir = join(this.#home, "attempts", run.id, ti.taskId, String(tryNumber));
    const logPath = join(this.#home, "logs", run.id, ti.taskId, `${tryNumber}.log`);
    const changes: StateChange[] = [];
    const attempt: Attempt = {
      runId: ti.runId,
      taskId: ti.taskId,
      tryNumber,
      state: "launching",
      executor: executor.name,
      externalId: `pending:${token}`,
      token,
      host: this.#host,
      pid: null,
      pidStart: null,
      attemptDir,
      logPath,
      startedAt: now,
      endedAt: null,
      exitCode: null,
      reason: null,
      killReason: null,
      schedulerId: this.#schedulerId,
    };
    const queued = await this.#store.transaction(async (tx) => {
      const moved = await moveTask(tx, ti, ["scheduled"], "queued", { tryNumber, queuedAt: now, reason: null }, now, changes);
      if (!moved) return false;
      await tx.attempts.insert(attempt);
      return true;
    });
    this.#emit(changes);
    return queued ? attempt : undefined;
  }

  async #startAttempt(run: Run, version: PipelineVersion, task: TaskSpec, executor: Executor, attempt: Attempt): Promise<void> {
    const ref: AttemptRef = { runId: run.id, taskId: task.id, tryNumber: attempt.tryNumber, token: attempt.token };
    const attemptDir = attempt.attemptDir ?? "";
    const artifactsDir = join(this.#home, "artifacts", run.id);
    const outputPath = join(attemptDir, "output.json");
    let launch: AttemptLaunch;
    try {
      const reads = version.outputReads.get(task.id) ?? [];
      const upstream = reads.length > 0 ? await this.#store.tasks.listByRun(run.id, reads) : [];
      const input = {
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
        if (!this.#secrets) throw new Error(`task ${task.id} uses secrets but this scheduler has no secret store`);
        secretEnv = await this.#secrets.resolve(version.spec.team, task.secrets);
      }
      const { env, secretNames } = launchEnv({ taskEnv: rendered.env, secretEnv, runContext: runContextEnv(runContextFacts(input)) });
      mkdirSync(attemptDir, { recursive: true });
      mkdirSync(dirname(attempt.logPath ?? attemptDir), { recursive: true });
      mkdirSync(artifactsDir, { recursive: true });
      launch = {
        ...ref,
        pipelineId: run.pipelineId,
        pipelineVersion: version.version,
        task: rendered,
        baseDir: version.baseDir,
        env,
        secretEnv: secretNames,
        resources: task.resources,
        attemptDir,
        logPath: attempt.logPath ?? join(attemptDir, "log"),
        outputPath,
        artifactsDir,
      };
    } catch (error) {
      await this.#onAttemptEnd(executor.name, ref, { outcome: "failed", exitCode: null, reason: (error as Error).message, outputs: null, retryable: false });
      return;
    }
    let info;
    try {
      info = await executor.launch(launch);
    } catch (error) {
      const retryable = error instanceof LaunchError ? error.retryable : true;
      await this.#onAttemptEnd(executor.name, ref, { outcome: "failed", exitCode: null, reason: `could not start: ${(error as Error).message}`, outputs: null, retryable });
      return;
    }
    const now = this.#clock.now();
    this.#observer?.attemptLaunched(executor.name, now - attempt.startedAt, this.#recentEnds.hop(run.id, task.dependsOn, now));
    const changes: StateChange[] = [];
    const running = await this.#store.transaction(async (tx) => {
      const updated = await tx.attempts.update(ref, ["launching"], { state: "running", externalId: info.externalId, pid: info.pid ?? null, pidStart: info.pidStart ?? null });
      if (!updated) return false;
      return moveTask(tx, { runId: run.id, taskId: task.id, pipelineId: run.pipelineId }, ["queued"], "running", { startedAt: now }, now, changes);
    });
    this.#emit(changes);
    if (running) this.#armTimeout(ref, executor, task, attempt.startedAt);
  }

  #armTimeout(ref: AttemptRef, executor: Executor, task: TaskSpec, startedAt: number): void {
    if (task.timeoutMs === null) return;
    const key = attemptKey(ref);
    this.#timeouts.get(key)?.clear();
    const timer = this.#clock.setTimer(startedAt + task.timeoutMs, () => {
      this.#timeouts.delete(key);
      this.#track(this.#killAttempt(executor, ref, `timed out after ${formatDuration(task.timeoutMs ?? 0)}`));
    });
    this.#timeouts.set(key, timer);
  }

  /** Records why an attempt is being killed (so the reason survives a restart), then kills it. */
  async #killAttempt(executor: Executor, ref: AttemptRef, reason: string): Promise<void> {
    const recorded = await this.#store.attempts.update(ref, ["launching", "running"], { killReason: reason });
    if (!recorded) return;
    this.#log.info({ run: ref.runId, task: ref.taskId, try: ref.tryNumber, reason }, "killing attempt");
    await executor.kill(ref, reason);
  }

  // ---------------------------------------------------------------- attempt ends

  async #onAttemptEnd(executorName: string, ref: AttemptRef, end: AttemptEnd): Promise<void> {
    const key = attemptKey(ref);
    this.#timeouts.get(key)?.clear();
    this.#timeouts.delete(key);
    const attempt = await this.#store.attempts.get(ref);
    if (!attempt || (attempt.state !== "launching" && attempt.state !== "running")) return;
    const run = await this.#store.runs.get(ref.runId);
    if (!run) return;
    const version = await this.versions.get(run.pipelineId, run.version);
    const task = version.spec.tasks[ref.taskId];
    let outcome = end.outcome;
    let reason = end.reason;
    // A timeout is a failure like any other and the retry policy decides (as in Airflow); an attempt
    // killed because the run was cancelled or the task cleared or marked is never retried.
    const retryable = end.retryable && (attempt.killReason === null || attempt.killReason.startsWith("timed out"));
    if (attempt.killReason !== null && outcome !== "success") {
      outcome = "failed";
      reason = attempt.killReason;
    } else if (outcome === "failed" && end.exitCode !== null && task?.skipOnExitCodes.includes(end.exitCode)) {
      outcome = "skipped";
      reason = `exit code ${end.exitCode} means skipped (skip_on_exit_code)`;
    }
    const now = this.#clock.now();
    const changes: StateChange[] = [];
    let retryAt: number | null = null;
    await this.#store.transaction(async (tx) => {
      const ended = await tx.attempts.update(ref, ["launching", "running"], {
        state: TERMINAL_ATTEMPT_FOR[outcome],
        endedAt: now,
        exitCode: end.exitCode,
        reason,
      });
      if (!ended) return;
      const ti = await tx.tasks.get(ref);
      if (ti?.tryNumber !== ref.tryNumber || (ti.state !== "queued" && ti.state !== "running")) return;
      const tiKey = { runId: ref.runId, taskId: ref.taskId, pipelineId: run.pipelineId };
      if (outcome === "success") {
        await moveTask(tx, tiKey, [ti.state], "success", { endedAt: now, outputs: end.outputs ?? {}, reason: null }, now, changes);
      } else if (outcome === "skipped") {
        await moveTask(tx, tiKey, [ti.state], "skipped", { endedAt: now, reason }, now, changes);
      } else if (retryable && task && ti.tryNumber < ti.maxTries) {
        retryAt = now + retryDelayMs(task, ti.tryNumber);
        await moveTask(tx, tiKey, [ti.state], "up_for_retry", { nextRetryAt: retryAt, reason, outputs: end.outputs }, now, changes);
      } else {
        // Outputs written before a failure (metrics of a failed evaluation, say) are kept.
        await moveTask(tx, tiKey, [ti.state], "failed", { endedAt: now, reason, outputs: end.outputs }, now, changes);
      }
    });
    this.#emit(changes);
    if (outcome === "success" || outcome === "skipped") this.#recentEnds.ended(ref.runId, ref.taskId, now);
    this.#observer?.attemptEnded(executorName, outcome, now - attempt.startedAt);
    this.#log.info({ run: ref.runId, task: ref.taskId, try: ref.tryNumber, executor: executorName, outcome, reason }, "attempt ended");
    if (retryAt !== null) await this.#armRetryTimer();
    this.#markDirty(ref.runId, [ref.taskId]);
    this.wake();
  }

  // ---------------------------------------------------------------- adoption

  async #reconcile(): Promise<void> {
    const active = await this.#store.attempts.listActive();
    const byExecutor = new Map<string, Attempt[]>();
    for (const attempt of active) {
      if (attempt.executor === "local" && attempt.host !== this.#host) continue;
      const list = byExecutor.get(attempt.executor) ?? [];
      list.push(attempt);
      byExecutor.set(attempt.executor, list);
    }
    for (const [name, attempts] of byExecutor) {
      const executor = this.#executors.get(name);
      if (!executor) {
        for (const a of attempts) {
          await this.#onAttemptEnd(name, a, { outcome: "lost", exitCode: null, reason: `executor ${name} is no longer configured`, outputs: null, retryable: true });
        }
        continue;
      }
      const stored: StoredAttempt[] = attempts.map((a) => ({ ...a }));
      const results = await executor.adopt(stored);
      for (const attempt of attempts) {
        const result = results.get(attemptKey(attempt)) ?? { status: "ended" as const, end: { outcome: "lost" as const, exitCode: null, reason: "the attempt was not found after a restart", outputs: null, retryable: true } };
        if (result.status === "running") {
          const changes: StateChange[] = [];
          const now = this.#clock.now();
          await this.#store.transaction(async (tx) => {
            await tx.attempts.update(attempt, ["launching"], { state: "running" });
            const run = await tx.runs.get(attempt.runId);
            if (run) await moveTask(tx, { ...attempt, pipelineId: run.pipelineId }, ["queued"], "running", { startedAt: attempt.startedAt }, now, changes);
          });
          this.#emit(changes);
          const run = await this.#store.runs.get(attempt.runId);
          const task = run ? (await this.versions.get(run.pipelineId, run.version)).spec.tasks[attempt.taskId] : undefined;
          if (task) this.#armTimeout(attempt, executor, task, attempt.startedAt);
          this.#log.info({ run: attempt.runId, task: attempt.taskId, try: attempt.tryNumber }, "adopted a running attempt");
          // A kill asked for while no scheduler ran (cancel, clear, timeout) is carried out now.
          if (attempt.killReason !== null) await executor.kill(attempt, attempt.killReason);
        } else {
          await this.#onAttemptEnd(name, attempt, result.end);
        }
      }
    }
  }

  // ---------------------------------------------------------------- commands

  /** Creates a manual run with typed params; throws ParamError or NotFoundError. */
  async trigger(pipelineId: string, options: TriggerOptions = {}): Promise<Run> {
    const version = this.versions.current(pipelineId);
    if (!version) throw new NotFoundError(`no pipeline ${JSON.stringify(pipelineId)} is loaded; known: ${this.versions.source.list().map((p) => p.spec.id).join(", ") || "none"}`);
    const params = resolveParams(version.spec.params, options.params ?? {});
    const logicalDate = options.logicalDate ?? this.#clock.now();
    const request: RunRequest = {
      trigger: options.trigger ?? "manual",
      logicalDate,
      interval: manualDataInterval(version, logicalDate),
      params,
      createdBy: options.createdBy ?? null,
      note: options.note ?? null,
    };
    const { run } = await this.#createRun(version, request);
    if (!run) throw new ConflictError("a run with the same key exists");
    return run;
  }

  /** Creates runs for every data interval whose logical date lies in [from, to]. */
  async backfill(pipelineId: string, from: number, to: number, options: { params?: Record<string, unknown>; createdBy?: string | null } = {}): Promise<BackfillResult> {
    const version = this.versions.current(pipelineId);
    if (!version) throw new NotFoundError(`no pipeline ${JSON.stringify(pipelineId)} is loaded`);
    const { spec } = version;
    if (!spec.schedule || spec.startDate === null) throw new InvalidRequestError(`pipeline ${pipelineId} has no schedule, so it has no data intervals to backfill; trigger runs with a logical date instead`);
    if (!(from <= to)) throw new InvalidRequestError("the backfill range is empty: --from must not be after --to");
    const params = resolveParams(spec.params, options.params ?? {});
    const intervals = intervalsBetween(spec.schedule, spec.timezone, spec.startDate, from, to);
    if (intervals.length === 0) throw new InvalidRequestError(`no data interval of ${spec.schedule.text} (from ${new Date(spec.startDate).toISOString()}) starts between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`);
    const result: BackfillResult = { created: [], existing: [] };
    for (const interval of intervals) {
      const { run } = await this.#createRun(version, { trigger: "backfill", runKey: intervalRunKey(interval), logicalDate: interval.start, interval, params, createdBy: options.createdBy ?? null });
      if (run) result.created.push(run);
      else result.existing.push(new Date(interval.start).toISOString());
    }
    return result;
  }

  async #createRun(version: PipelineVersion, request: RunRequest): Promise<{ run: Run | undefined }> {
    const now = this.#clock.now();
    const { run, tasks } = buildRun(version, request, now);
    const created = await this.#store.transaction((tx) => tx.runs.insert(run, tasks));
    if (!created) return { run: undefined };
    this.#emit([{ kind: "run", runId: run.id, pipelineId: run.pipelineId, state: "queued" }]);
    this.#runsChanged = true;
    this.wake();
    return { run: await this.#store.runs.get(run.id) };
  }

  /** Cancels a run: its unfinished tasks are cancelled and running attempts killed. */
  async cancel(runId: string): Promise<Run> {
    const run = await this.#requireRun(runId);
    if (isFinishedRun(run.state)) throw new ConflictError(`run ${runId} has already finished (${run.state})`);
    const now = this.#clock.now();
    const changes: StateChange[] = [];
    const toKill: Attempt[] = [];
    await this.#store.transaction(async (tx) => {
      if (!(await moveRun(tx, run, ["queued", "running"], "cancelled", { endedAt: now }, now, changes))) return;
      for (const ti of await tx.tasks.listByRun(runId)) {
        if (isFinishedTask(ti.state)) continue;
        if (ti.state === "queued" || ti.state === "running") {
          const attempt = await tx.attempts.get({ ...ti, tryNumber: ti.tryNumber });
          if (attempt && (await tx.attempts.update(attempt, ["launching", "running"], { killReason: "cancelled" }))) toKill.push(attempt);
        }
        await moveTask(tx, ti, [ti.state], "cancelled", { endedAt: now, reason: "the run was cancelled" }, now, changes);
      }
    });
    this.#emit(changes);
    await this.#killAll(toKill, "cancelled");
    this.#runsChanged = true;
    this.#track(this.#checkSchedule(run.pipelineId));
    this.wake();
    return this.#requireRun(runId);
  }

  /**
   * Clears task instances so they run again (with fresh retries), optionally with everything
   * downstream of them. A finished run is queued again.
   */
  async clear(runId: string, taskIds: readonly string[], options: { downstream?: boolean } = {}): Promise<string[]> {
    const run = await this.#requireRun(runId);
    const version = await this.versions.get(run.pipelineId, run.version);
    for (const id of taskIds) {
      if (!version.spec.tasks[id]) throw new NotFoundError(`run ${runId} has no task ${JSON.stringify(id)}; tasks: ${version.spec.taskOrder.join(", ")}`);
    }
    const selected = new Set(taskIds);
    if (options.downstream) for (const id of taskIds) for (const d of version.dag.descendants(id)) selected.add(d);
    const now = this.#clock.now();
    const changes: StateChange[] = [];
    const toKill: Attempt[] = [];
    await this.#store.transaction(async (tx) => {
      for (const ti of await tx.tasks.listByRun(runId, [...selected])) {
        if (ti.state === "none") continue;
        if (ti.state === "queued" || ti.state === "running") {
          const attempt = await tx.attempts.get({ ...ti, tryNumber: ti.tryNumber });
          if (attempt && (await tx.attempts.update(attempt, ["launching", "running"], { killReason: "cleared" }))) toKill.push(attempt);
        }
        const task = version.spec.tasks[ti.taskId];
        await moveTask(tx, ti, [ti.state], "none", { maxTries: ti.tryNumber + (task?.retries ?? 0) + 1, reason: null, outputs: null, nextRetryAt: null, scheduledAt: null, queuedAt: null, startedAt: null, endedAt: null }, now, changes);
      }
      if (isFinishedRun(run.state)) await moveRun(tx, run, [run.state], "queued", { endedAt: null }, now, changes);
    });
    this.#emit(changes);
    await this.#killAll(toKill, "cleared");
    this.#markDirty(runId, selected);
    this.#runsChanged = true;
    this.wake();
    return [...selected];
  }

  /** Sets a task instance to success or failed by hand; a running attempt is killed. */
  async mark(runId: string, taskId: string, state: "success" | "failed"): Promise<TaskInstance> {
    const run = await this.#requireRun(runId);
    const ti = await this.#store.tasks.get({ runId, taskId });
    if (!ti) throw new NotFoundError(`run ${runId} has no task ${JSON.stringify(taskId)}`);
    if (ti.state === state) return ti;
    const now = this.#clock.now();
    const changes: StateChange[] = [];
    const toKill: Attempt[] = [];
    await this.#store.transaction(async (tx) => {
      if (ti.state === "queued" || ti.state === "running") {
        const attempt = await tx.attempts.get({ ...ti, tryNumber: ti.tryNumber });
        if (attempt && (await tx.attempts.update(attempt, ["launching", "running"], { killReason: `marked ${state}` }))) toKill.push(attempt);
      }
      await moveTask(tx, ti, [ti.state], state, { endedAt: now, reason: `marked ${state} by hand`, nextRetryAt: null }, now, changes);
      if (isFinishedRun(run.state) && run.state !== "cancelled") {
        const version = await this.versions.get(run.pipelineId, run.version);
        const states = new Map((await tx.tasks.listByRun(runId)).map((t) => [t.taskId, t.state]));
        if ([...states.values()].every(isFinishedTask)) {
          const final = finishedRunState(version.dag.leaves().map((t) => states.get(t) ?? "none"));
          if (final !== run.state) await moveRun(tx, run, [run.state], final, { endedAt: now }, now, changes);
        }
      }
    });
    this.#emit(changes);
    await this.#killAll(toKill, `marked ${state}`);
    this.#markDirty(runId, [taskId]);
    this.wake();
    const updated = await this.#store.tasks.get({ runId, taskId });
    if (!updated) throw new NotFoundError(`task ${taskId} vanished`);
    return updated;
  }

  async #killAll(attempts: readonly Attempt[], reason: string): Promise<void> {
    await Promise.all(
      attempts.map(async (attempt) => {
        const executor = this.#executors.get(attempt.executor);
        if (!executor) return;
        try {
          await executor.kill(attempt, reason);
        } catch (error) {
          this.#log.error({ err: error, run: attempt.runId, task: attempt.taskId }, "could not kill attempt");
        }
      }),
    );
  }

  async #requireRun(runId: string): Promise<Run> {
    const run = await this.#store.runs.get(runId);
    if (!run) throw new NotFoundError(`no run ${JSON.stringify(runId)}`);
    return run;
  }
}

export { ParamError };

/** Whether an announced change has the shape of a StateChange (it came from another process). */
function isStateChange(value: unknown): value is StateChange {
  if (typeof value !== "object" || value === null) return false;
  const change = value as Record<string, unknown>;
  return (
    (change["kind"] === "run" || (change["kind"] === "task" && typeof change["taskId"] === "string")) &&
    typeof change["runId"] === "string" &&
    typeof change["pipelineId"] === "string" &&
    typeof change["state"] === "string"
  );
}
