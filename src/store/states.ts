/** The states that runs, task instances and attempts are stored in. */

export const RUN_STATES = ["queued", "running", "success", "failed", "cancelled"] as const;
export type RunState = (typeof RUN_STATES)[number];
export const FINISHED_RUN_STATES: readonly RunState[] = ["success", "failed", "cancelled"];

export const TASK_STATES = [
  "none",
  "scheduled",
  "queued",
  "running",
  "success",
  "failed",
  "up_for_retry",
  "skipped",
  "upstream_failed",
  "cancelled",
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States a task instance does not leave on its own. */
export const FINISHED_TASK_STATES: readonly TaskState[] = ["success", "failed", "skipped", "upstream_failed", "cancelled"];
/** States in which a task holds (or is about to hold) an executor slot. */
export const ACTIVE_TASK_STATES: readonly TaskState[] = ["queued", "running"];

export const ATTEMPT_STATES = ["launching", "running", "success", "failed", "skipped", "lost", "cancelled"] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];
export const ACTIVE_ATTEMPT_STATES: readonly AttemptState[] = ["launching", "running"];

export const RUN_TRIGGERS = ["scheduled", "manual", "backfill", "api", "kafka"] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

export function isFinishedTask(state: TaskState): boolean {
  return FINISHED_TASK_STATES.includes(state);
}

export function isFinishedRun(state: RunState): boolean {
  return FINISHED_RUN_STATES.includes(state);
}
