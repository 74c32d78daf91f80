/**
 * The one place that changes the state of a task instance or a run. Each move is a conditional
 * UPDATE inside the caller's transaction, and a move the state machine does not allow is refused
 * as a programming error, never written.
 */
import type { Repositories, RunState, TaskKey, TaskPatch, TaskState } from "../store/index.js";
import type { RunsTable } from "../store/schema.js";
import type { Updateable } from "kysely";

const ALLOWED: Record<TaskState, readonly TaskState[]> = {
  none: ["scheduled", "skipped", "upstream_failed", "cancelled", "success", "failed"],
  scheduled: ["queued", "none", "cancelled", "failed", "success", "skipped"],
  queued: ["running", "success", "failed", "up_for_retry", "skipped", "cancelled", "none"],
  running: ["success", "failed", "up_for_retry", "skipped", "cancelled", "none"],
  up_for_retry: ["scheduled", "none", "cancelled", "failed", "success"],
  success: ["none", "failed"],
  failed: ["none", "success"],
  skipped: ["none", "success", "failed"],
  upstream_failed: ["none", "success", "failed"],
  cancelled: ["none", "success", "failed"],
};

const RUN_ALLOWED: Record<RunState, readonly RunState[]> = {
  queued: ["running", "cancelled"],
  running: ["success", "failed", "cancelled", "queued"],
  success: ["queued", "failed"],
  failed: ["queued", "success"],
  cancelled: ["queued"],
};

/** A state change the state machine does not allow. */
export class IllegalTransitionError extends Error {
  override readonly name = "IllegalTransitionError";
}

/** A change that was written, for listeners (live UI, progress views). */
export interface TaskChange {
  kind: "task";
  runId: string;
  taskId: string;
  pipelineId: string;
  state: TaskState;
}
export interface RunChange {
  kind: "run";
  runId: string;
  pipelineId: string;
  state: RunState;
}
export type StateChange = TaskChange | RunChange;

/**
 * Moves a task instance from one of `from` to `to`. Returns false (and writes nothing) when the task
 * was no longer in any of `from`, i.e. someone else moved it first.
 */
export async function moveTask(
  tx: Repositories,
  key: TaskKey & { pipelineId: string },
  from: readonly TaskState[],
  to: TaskState,
  patch: TaskPatch,
  now: number,
  changes: StateChange[],
): Promise<boolean> {
  for (const state of from) {
    if (!ALLOWED[state].includes(to)) throw new IllegalTransitionError(`task ${key.taskId} of run ${key.runId}: ${state} → ${to} is not a valid move`);
  }
  const moved = await tx.tasks.move(key, from, to, patch, now);
  if (moved) changes.push({ kind: "task", runId: key.runId, taskId: key.taskId, pipelineId: key.pipelineId, state: to });
  return moved;
}

/** Moves a run from one of `from` to `to`; false when it was in none of them. */
export async function moveRun(
  tx: Repositories,
  run: { id: string; pipelineId: string },
  from: readonly RunState[],
  to: RunState,
  patch: Omit<Updateable<RunsTable>, "state" | "id">,
  now: number,
  changes: StateChange[],
): Promise<boolean> {
  for (const state of from) {
    if (!RUN_ALLOWED[state].includes(to)) throw new IllegalTransitionError(`run ${run.id}: ${state} → ${to} is not a valid move`);
  }
  const moved = await tx.runs.move(run.id, from, to, patch, now);
  if (moved) changes.push({ kind: "run", runId: run.id, pipelineId: run.pipelineId, state: to });
  return moved;
}
