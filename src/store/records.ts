/** The records the store hands out: table rows with JSON columns parsed. */
import type { Selectable } from "kysely";
import type { AttemptsTable, PoolsTable, RunsTable, TaskInstancesTable } from "./schema.js";

export type Run = Omit<Selectable<RunsTable>, "params"> & { params: Record<string, unknown> };
export type TaskInstance = Omit<Selectable<TaskInstancesTable>, "outputs"> & { outputs: Record<string, unknown> | null };
export type Attempt = Selectable<AttemptsTable>;
export type Pool = Selectable<PoolsTable>;

/** Identifies a task instance. */
export interface TaskKey {
  runId: string;
  taskId: string;
}

/** Identifies an attempt. */
export interface AttemptKey extends TaskKey {
  tryNumber: number;
}

export function parseRun(row: Selectable<RunsTable>): Run {
  return { ...row, params: JSON.parse(row.params) as Record<string, unknown> };
}

export function parseTaskInstance(row: Selectable<TaskInstancesTable>): TaskInstance {
  return { ...row, outputs: row.outputs === null ? null : (JSON.parse(row.outputs) as Record<string, unknown>) };
}
