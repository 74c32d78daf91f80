/** Task instances: reads for the scheduler and the UI, and the conditional update every state change goes through. */
import type { Kysely, Updateable } from "kysely";
import { parseTaskInstance, type TaskInstance, type TaskKey } from "./records.js";
import type { Database, TaskInstancesTable } from "./schema.js";
import type { TaskState } from "./states.js";

export type TaskPatch = Omit<Updateable<TaskInstancesTable>, "state" | "runId" | "taskId" | "outputs"> & {
  outputs?: Record<string, unknown> | null;
};

export class TaskInstanceRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: "sqlite" | "postgres",
  ) {}

  async get(key: TaskKey): Promise<TaskInstance | undefined> {
    const row = await this.db.selectFrom("taskInstances").selectAll().where("runId", "=", key.runId).where("taskId", "=", key.taskId).executeTakeFirst();
    return row && parseTaskInstance(row);
  }

  async listByRun(runId: string, taskIds?: readonly string[]): Promise<TaskInstance[]> {
    let query = this.db.selectFrom("taskInstances").selectAll().where("runId", "=", runId);
    if (taskIds !== undefined) {
      if (taskIds.length === 0) return [];
      query = query.where("taskId", "in", taskIds);
    }
    return (await query.execute()).map(parseTaskInstance);
  }

  async listByRuns(runIds: readonly string[]): Promise<TaskInstance[]> {
    if (runIds.length === 0) return [];
    return (await this.db.selectFrom("taskInstances").selectAll().where("runId", "in", runIds).execute()).map(parseTaskInstance);
  }

  /**
   * Moves a task instance from one of `from` to `to`, with the fields in `patch`, in one conditional
   * UPDATE. False when its state was none of `from` (another actor moved it first).
   */
  async move(key: TaskKey, from: readonly TaskState[], to: TaskState, patch: TaskPatch, now: number): Promise<boolean> {
    const { outputs, ...rest } = patch;
    const set: Updateable<TaskInstancesTable> = { ...rest, state: to, updatedAt: now };
    if (outputs !== undefined) set.outputs = outputs === null ? null : JSON.stringify(outputs);
    const result = await this.db
      .updateTable("taskInstances")
      .set(set)
      .where("runId", "=", key.runId)
      .where("taskId", "=", key.taskId)
      .where("state", "in", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Scheduled task instances of running runs, best first (priority, then waiting time). On PostgreSQL
   * the rows are locked with SKIP LOCKED, so concurrent schedulers pick disjoint sets.
   */
  async listSchedulable(limit: number): Promise<TaskInstance[]> {
    let query = this.db
      .selectFrom("taskInstances")
      .innerJoin("runs", "runs.id", "taskInstances.runId")
      .selectAll("taskInstances")
      .where("taskInstances.state", "=", "scheduled")
      .where("runs.state", "=", "running")
      .orderBy("taskInstances.priorityWeight", "desc")
      .orderBy("taskInstances.scheduledAt")
      .limit(limit);
    if (this.dialect === "postgres") query = query.forUpdate("taskInstances").skipLocked();
    return (await query.execute()).map(parseTaskInstance);
  }

  /** Task instances holding slots (queued or running), counted per pipeline and per pool. */
  async activeUsage(): Promise<{ byPipeline: Map<string, number>; byPool: Map<string, number> }> {
    const rows = await this.db
      .selectFrom("taskInstances")
      .select(["pipelineId", "pool", (eb) => eb.fn.countAll<number>().as("n"), (eb) => eb.fn.sum<number>("poolSlots").as("slots")])
      .where("state", "in", ["queued", "running"])
      .groupBy(["pipelineId", "pool"])
      .execute();
    const byPipeline = new Map<string, number>();
    const byPool = new Map<string, number>();
    for (const row of rows) {
      byPipeline.set(row.pipelineId, (byPipeline.get(row.pipelineId) ?? 0) + Number(row.n));
      byPool.set(row.pool, (byPool.get(row.pool) ?? 0) + Number(row.slots));
    }
    return { byPipeline, byPool };
  }

  /** Task instances waiting for a retry whose delay has passed. */
  async listDueRetries(now: number): Promise<TaskInstance[]> {
    const rows = await this.db
      .selectFrom("taskInstances")
      .selectAll()
      .where("state", "=", "up_for_retry")
      .where("nextRetryAt", "<=", now)
      .execute();
    return rows.map(parseTaskInstance);
  }

  /** The earliest time a waiting retry becomes due, or null. */
  async nextRetryAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom("taskInstances")
      .select((eb) => eb.fn.min("nextRetryAt").as("at"))
      .where("state", "=", "up_for_retry")
      .executeTakeFirst();
    return row?.at === null || row?.at === undefined ? null : Number(row.at);
  }

  async countByState(runId: string): Promise<Map<TaskState, number>> {
    const rows = await this.db
      .selectFrom("taskInstances")
      .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
      .where("runId", "=", runId)
      .groupBy("state")
      .execute();
    return new Map(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Task instances in each of `states`, over all runs (the states' index answers it). */
  async countInStates(states: readonly TaskState[]): Promise<Map<TaskState, number>> {
    const rows = await this.db
      .selectFrom("taskInstances")
      .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
      .where("state", "in", states)
      .groupBy("state")
      .execute();
    return new Map(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Running runs whose task instances were left in 'none' with work to evaluate (used after restarts). */
  async runIdsWithState(state: TaskState): Promise<string[]> {
    const rows = await this.db.selectFrom("taskInstances").select("runId").distinct().where("state", "=", state).execute();
    return rows.map((r) => r.runId);
  }
}
