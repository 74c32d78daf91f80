/**
 * The scheduler: creates runs from schedules, decides which task instances may run (trigger rules,
 * retries, pools, limits), launches attempts on executors and records how they end.
 *
 * It is event-driven: an ended attempt, a new run or a command wakes one scheduling pass at once;
 * time-based work (cron ticks, retry delays, timeouts) uses the injected clock's timers. State lives
 * in the store and every change is one transaction, so a restarted scheduler (or a second one on
 * PostgreSQL) continues from the database: `start()` adopts attempts that are still running.
 *
 * This class keeps the lifecycle and the pass loop; its parts live beside it: schedule timers
 * (schedule-timers.ts), retries (retry-timer.ts), run evaluation (run-evaluation.ts), launching
 * (launching.ts), attempt ends and timeouts (attempt-ends.ts, attempt-timeouts.ts), adoption
 * (adoption.ts), commands (commands.ts) and the change outbox (change-outbox.ts).
 */
import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Clock, ClockTimer } from "../clock/index.js";
import type { Executor } from "../executors/executor.js";
import type { ChangeMessage, Run, Store, TaskInstance } from "../store/index.js";
import { adoptAttempts } from "./adoption.js";
import { AttemptEnds } from "./attempt-ends.js";
import { AttemptTimeouts } from "./attempt-timeouts.js";
import { ChangeOutbox } from "./change-outbox.js";
import { SchedulerCommands, type BackfillResult, type TriggerOptions } from "./commands.js";
import { AttemptLauncher, type SecretResolver } from "./launching.js";
import { PipelineVersions, type PipelineSource } from "./pipeline-versions.js";
import { RetryTimer } from "./retry-timer.js";
import { evaluateRun, startQueuedRuns, type DirtyRun } from "./run-evaluation.js";
import { ScheduleTimers } from "./schedule-timers.js";
import { ExecutorRegistry, type SchedulerContext } from "./scheduler-context.js";
import { RecentTaskEnds, type SchedulerObserver } from "./scheduler-observer.js";
import type { StateChange } from "./task-state.js";
import type { ModelRegistrar } from "./model-registrar.js";

export type { BackfillResult, TriggerOptions } from "./commands.js";

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
  secrets?: SecretResolver;
  /** Told of attempt launches and ends (the platform's metrics). */
  observer?: SchedulerObserver;
  /** Registers the model versions tasks declare with `register_model:` (none without it). */
  models?: ModelRegistrar;
}

export class Scheduler {
  readonly events = new EventEmitter<{ change: [StateChange] }>();
  readonly versions: PipelineVersions;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sweepIntervalMs: number;
  readonly #onlyRuns: Set<string> | undefined;
  readonly #executors: ExecutorRegistry;
  readonly #host: string;

  readonly #ctx: SchedulerContext;
  readonly #outbox: ChangeOutbox;
  readonly #schedules: ScheduleTimers;
  readonly #retries: RetryTimer;
  readonly #timeouts: AttemptTimeouts;
  readonly #ends: AttemptEnds;
  readonly #launcher: AttemptLauncher;
  readonly #commands: SchedulerCommands;

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
  #sweepTimer: ClockTimer | undefined;
  #stopListening: (() => void) | undefined;

  constructor(options: SchedulerOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 0;
    this.#onlyRuns = options.onlyRuns;
    this.#host = options.host;
    this.#executors = new ExecutorRegistry(options.executors, options.defaultExecutor);
    this.versions = new PipelineVersions(options.store, options.pipelines);
    const schedulerId = options.schedulerId ?? `sched-${randomBytes(4).toString("hex")}`;
    this.#outbox = new ChangeOutbox({ feed: options.store.changes, schedulerId, events: this.events, track: (promise) => this.#track(promise), log: this.#log });
    const ctx = (this.#ctx = this.#makeContext());
    this.#schedules = new ScheduleTimers(ctx, { enabled: this.#onlyRuns === undefined });
    this.#retries = new RetryTimer(ctx, () => {
      this.#retriesDue = true;
      this.wake();
    });
    this.#timeouts = new AttemptTimeouts(ctx);
    const recentEnds = new RecentTaskEnds();
    this.#ends = new AttemptEnds(ctx, { timeouts: this.#timeouts, retries: this.#retries, recentEnds, observer: options.observer, models: options.models });
    this.#launcher = new AttemptLauncher(ctx, {
      executors: this.#executors,
      home: options.home,
      host: options.host,
      schedulerId,
      batchSize: options.batchSize ?? 256,
      secrets: options.secrets,
      ends: this.#ends,
      timeouts: this.#timeouts,
      recentEnds,
      observer: options.observer,
    });
    this.#commands = new SchedulerCommands(ctx, { executors: this.#executors, schedules: this.#schedules });
    for (const [name, executor] of this.#executors.entries()) {
      executor.onAttemptEnd((ref, end) => this.#track(this.#ends.record(name, ref, end)));
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Adopts attempts left running by a previous scheduler, then starts scheduling. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await adoptAttempts(this.#ctx, { executors: this.#executors, host: this.#host, ends: this.#ends, timeouts: this.#timeouts });
    for (const run of await this.#store.runs.listInStates(["running"])) this.#markDirty(run.id, null);
    this.#schedules.checkAll();
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
    this.#schedules.stop();
    this.#timeouts.stop();
    this.#retries.stop();
    this.#sweepTimer?.clear();
    this.#stopListening?.();
    await this.#idle;
    this.#outbox.flush();
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
    this.#schedules.checkAll();
    this.wake();
  }

  // ---------------------------------------------------------------- commands

  /** Creates a manual run with typed params; throws ParamError or NotFoundError. */
  trigger(pipelineId: string, options: TriggerOptions = {}): Promise<Run> {
    return this.#commands.trigger(pipelineId, options);
  }

  /** Creates runs for every data interval whose logical date lies in [from, to]. */
  backfill(pipelineId: string, from: number, to: number, options: { params?: Record<string, unknown>; createdBy?: string | null } = {}): Promise<BackfillResult> {
    return this.#commands.backfill(pipelineId, from, to, options);
  }

  /** Cancels a run: its unfinished tasks are cancelled and running attempts killed. */
  cancel(runId: string): Promise<Run> {
    return this.#commands.cancel(runId);
  }

  /**
   * Clears task instances so they run again (with fresh retries), optionally with everything
   * downstream of them. A finished run is queued again.
   */
  clear(runId: string, taskIds: readonly string[], options: { downstream?: boolean } = {}): Promise<string[]> {
    return this.#commands.clear(runId, taskIds, options);
  }

  /** Sets a task instance to success or failed by hand; a running attempt is killed. */
  mark(runId: string, taskId: string, state: "success" | "failed"): Promise<TaskInstance> {
    return this.#commands.mark(runId, taskId, state);
  }

  // ---------------------------------------------------------------- the pass loop

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
      await startQueuedRuns(this.#ctx);
    }
    if (this.#retriesDue) {
      this.#retriesDue = false;
      await this.#retries.releaseDue();
    }
    await this.#evaluateDirtyRuns();
    await this.#launcher.launchScheduled();
    await this.#retries.arm();
  }

  /** Applies trigger rules to the task instances of changed runs, and finishes runs that are done. */
  async #evaluateDirtyRuns(): Promise<void> {
    while (this.#dirty.size > 0) {
      const batch = [...this.#dirty];
      this.#dirty.clear();
      for (const [runId, dirty] of batch) {
        const finished = await evaluateRun(this.#ctx, runId, dirty);
        if (!finished) continue;
        this.#runsChanged = true;
        this.#log.info({ run: runId, state: finished.state }, "run finished");
        this.#track(this.#schedules.check(finished.run.pipelineId));
        this.wake();
      }
    }
  }

  /** A safety pass every `sweepIntervalMs`: covers changes announced while a listener reconnected. */
  #armSweep(): void {
    this.#sweepTimer = this.#clock.setTimer(this.#clock.now() + this.#sweepIntervalMs, () => {
      if (this.#closed) return;
      this.#runsChanged = true;
      this.#retriesDue = true;
      void this.#store.runs.listInStates(["running"]).then((runs) => {
        for (const run of runs) this.#markDirty(run.id, null);
        this.wake();
      }, (error: unknown) => this.#log.error({ err: error }, "sweep failed"));
      this.#schedules.checkAll();
      this.#armSweep();
    });
  }

  /** Another process on the database wrote changes: look at their runs now, and tell live views. */
  #heard(message: ChangeMessage): void {
    if (this.#closed) return;
    const changes = this.#outbox.heard(message);
    if (changes === undefined) return;
    for (const change of changes) {
      this.#markDirty(change.runId, null);
      if (change.kind === "run") this.#runsChanged = true;
      this.events.emit("change", change);
    }
    this.wake();
  }

  // ---------------------------------------------------------------- shared with the parts

  /** The view of this scheduler its parts work through. */
  #makeContext(): SchedulerContext {
    return {
      store: this.#store,
      clock: this.#clock,
      log: this.#log,
      versions: this.versions,
      isClosed: () => this.#closed,
      emit: (changes) => this.#outbox.emit(changes),
      track: (promise) => this.#track(promise),
      markDirty: (runId, tasks) => this.#markDirty(runId, tasks),
      runsChanged: () => {
        this.#runsChanged = true;
      },
      wake: () => this.wake(),
      inScope: (runId) => this.#inScope(runId),
    };
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.then(
      () => undefined,
      (error: unknown) => this.#log.error({ err: error }, "scheduler bookkeeping failed"),
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
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
}
