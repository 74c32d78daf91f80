/**
 * Fans the scheduler's state changes out to live streams: one listener on the scheduler, and each
 * subscriber gets the changes of the pipelines its principal may see (optionally one pipeline or
 * one run). Nothing here reads the database per client.
 */
import type { Principal } from "../auth/index.js";
import { z } from "zod";
import { type Platform } from "../wiring/index.js";
import { RunStateSchema, TaskStateSchema } from "../operations/index.js";
import type { StateChange } from "../scheduler/index.js";
import type { Access } from "./access.js";

/** A change as streams send it (snake_case like the rest of the API). */
export const ChangeEventSchema = z
  .object({
    kind: z.enum(["run", "task"]),
    pipeline: z.string(),
    run: z.string(),
    task: z.string().optional().describe("For task changes"),
    state: z.union([RunStateSchema, TaskStateSchema]).describe("The run's state (kind run) or the task's (kind task)"),
    at: z.string().describe("When the change was written (ISO 8601)"),
  })
  .meta({ id: "ChangeEvent" });
export type ChangeEvent = z.infer<typeof ChangeEventSchema>;

export interface Subscription {
  principal: Principal;
  pipeline?: string;
  run?: string;
  send(event: ChangeEvent): void;
}

export class EventHub {
  readonly #subscribers = new Set<Subscription>();
  /** Teams of pipelines that are no longer loaded, read once from the store when first needed. */
  readonly #storedTeams = new Map<string, string | undefined>();
  readonly #listener = (change: StateChange) => this.#dispatch(change);

  constructor(
    private readonly platform: Platform,
    private readonly access: Access,
  ) {
    platform.scheduler.events.on("change", this.#listener);
  }

  /** Adds a subscriber; call the returned function to remove it. */
  subscribe(subscription: Subscription): () => void {
    this.#subscribers.add(subscription);
    return () => this.#subscribers.delete(subscription);
  }

  get size(): number {
    return this.#subscribers.size;
  }

  close(): void {
    this.platform.scheduler.events.off("change", this.#listener);
    this.#subscribers.clear();
  }

  #dispatch(change: StateChange): void {
    if (this.#subscribers.size === 0) return;
    const team = this.access.loadedTeamOf(change.pipelineId);
    if (team !== undefined) {
      this.#deliver(change, team);
      return;
    }
    if (this.#storedTeams.has(change.pipelineId)) {
      const stored = this.#storedTeams.get(change.pipelineId);
      if (stored !== undefined) this.#deliver(change, stored);
      return;
    }
    void this.access.teamOf(change.pipelineId).then(
      (found) => {
        this.#storedTeams.set(change.pipelineId, found);
        if (found !== undefined) this.#deliver(change, found);
      },
      () => undefined,
    );
  }

  #deliver(change: StateChange, team: string): void {
    const event: ChangeEvent = {
      kind: change.kind,
      pipeline: change.pipelineId,
      run: change.runId,
      ...(change.kind === "task" ? { task: change.taskId } : {}),
      state: change.state,
      at: new Date().toISOString(),
    };
    for (const sub of this.#subscribers) {
      if (sub.pipeline !== undefined && sub.pipeline !== change.pipelineId) continue;
      if (sub.run !== undefined && sub.run !== change.runId) continue;
      if (!sub.principal.canRead(team)) continue;
      sub.send(event);
    }
  }
}
