/**
 * What the scheduler's parts (schedule timers, launching, attempt ends, adoption, commands) share:
 * the store, the clock, the log, pinned versions, and the ways to tell the pass loop that something
 * changed. The Scheduler builds one and hands it to each part.
 */
import type { Logger } from "pino";
import type { Clock } from "../clock/index.js";
import type { Executor } from "../executors/executor.js";
import type { TaskSpec } from "../pipelines/index.js";
import type { Store } from "../store/index.js";
import type { PipelineVersions } from "./pipeline-versions.js";
import type { StateChange } from "./task-state.js";

export interface SchedulerContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly versions: PipelineVersions;
  /** True once `stop()` was called: nothing new is started. */
  isClosed(): boolean;
  /** Tells live views of changes now written, and other processes on the database soon after. */
  emit(changes: readonly StateChange[]): void;
  /** Keeps bookkeeping that `stop()` and `settled()` wait for; a failure is logged, not thrown. */
  track(promise: Promise<unknown>): void;
  /** Tasks of a run (null: all of them) changed: the next pass applies trigger rules to them and what follows. */
  markDirty(runId: string, tasks: Iterable<string> | null): void;
  /** Runs were created, finished or re-queued: the next pass starts queued runs within limits. */
  runsChanged(): void;
  /** Asks for a scheduling pass as soon as possible. */
  wake(): void;
  /** Whether this scheduler looks after a run (every run, or only those of a one-off `capstan run --wait`). */
  inScope(runId: string): boolean;
}

/** The executor that waits for kafka_sensor tasks in the platform's own process. */
export const KAFKA_SENSOR_EXECUTOR = "kafka_sensor";

/** The configured executors, and which one runs a task. */
export class ExecutorRegistry {
  readonly #executors: ReadonlyMap<string, Executor>;
  readonly #defaultName: string;

  constructor(executors: ReadonlyMap<string, Executor>, defaultName: string) {
    this.#executors = executors;
    this.#defaultName = defaultName;
  }

  /** The executor's name a task asks for (`executor:`), else the default; a kafka_sensor is always waited on by the platform's own `kafka_sensor` executor (src/sensors). */
  nameFor(task: TaskSpec): string {
    if (task.kind === "kafka_sensor") return KAFKA_SENSOR_EXECUTOR;
    return task.executor ?? this.#defaultName;
  }

  forTask(task: TaskSpec): Executor | undefined {
    return this.#executors.get(this.nameFor(task));
  }

  get(name: string): Executor | undefined {
    return this.#executors.get(name);
  }

  names(): string[] {
    return [...this.#executors.keys()];
  }

  entries(): IterableIterator<[string, Executor]> {
    return this.#executors.entries();
  }
}
