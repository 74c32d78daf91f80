/**
 * The change outbox: state changes this scheduler wrote, told to live views at once and announced
 * to the other processes on the database (`NOTIFY capstan_changes`) once per turn of the event
 * loop, whatever the number of transactions in it; and the check of what another process announced.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { ChangeMessage, Store } from "../store/index.js";
import type { StateChange } from "./task-state.js";

export interface ChangeOutboxOptions {
  /** The feed between processes on one database; none on SQLite. */
  feed: Store["changes"];
  schedulerId: string;
  events: EventEmitter<{ change: [StateChange] }>;
  /** Keeps the announcement as bookkeeping the scheduler waits for on stop. */
  track: (promise: Promise<unknown>) => void;
  log: Logger;
}

export class ChangeOutbox {
  readonly #options: ChangeOutboxOptions;
  /** changes written here and not yet announced to other processes on the database */
  #pending: StateChange[] = [];

  constructor(options: ChangeOutboxOptions) {
    this.#options = options;
  }

  /** Tells live views of the changes now, and queues them for the other processes. */
  emit(changes: readonly StateChange[]): void {
    const { events, feed } = this.#options;
    for (const change of changes) events.emit("change", change);
    if (!feed || changes.length === 0) return;
    if (this.#pending.length === 0) setImmediate(() => this.flush());
    this.#pending.push(...changes);
  }

  /** Announces what is queued. */
  flush(): void {
    const { feed, schedulerId, track, log } = this.#options;
    if (!feed || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    track(feed.announce(schedulerId, batch).catch((error: unknown) => log.warn({ err: error }, "could not announce changes to other schedulers")));
  }

  /** The state changes of a message another process announced; undefined when it came from here. */
  heard(message: ChangeMessage): StateChange[] | undefined {
    if (message.from === this.#options.schedulerId) return undefined;
    return message.changes.filter(isStateChange);
  }
}

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
