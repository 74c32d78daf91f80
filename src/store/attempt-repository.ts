/** Attempts: one row per try of a task instance, written before the attempt is launched. */
import type { Insertable, Kysely, Updateable } from "kysely";
import type { Attempt, AttemptKey, TaskKey } from "./records.js";
import type { AttemptsTable, Database } from "./schema.js";
import type { AttemptState } from "./states.js";

export class AttemptRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts an attempt; the primary key (run, task, try) makes a second insert of the same try fail. */
  async insert(attempt: Insertable<AttemptsTable>): Promise<void> {
    await this.db.insertInto("attempts").values(attempt).execute();
  }

  async get(key: AttemptKey): Promise<Attempt | undefined> {
    return this.db
      .selectFrom("attempts")
      .selectAll()
      .where("runId", "=", key.runId)
      .where("taskId", "=", key.taskId)
      .where("tryNumber", "=", key.tryNumber)
      .executeTakeFirst();
  }

  async listByTask(key: TaskKey): Promise<Attempt[]> {
    return this.db.selectFrom("attempts").selectAll().where("runId", "=", key.runId).where("taskId", "=", key.taskId).orderBy("tryNumber").execute();
  }

  async listByRun(runId: string): Promise<Attempt[]> {
    return this.db.selectFrom("attempts").selectAll().where("runId", "=", runId).orderBy("taskId").orderBy("tryNumber").execute();
  }

  /** Updates an attempt only while it is in one of `from`; false otherwise. */
  async update(key: AttemptKey, from: readonly AttemptState[], patch: Updateable<AttemptsTable>): Promise<boolean> {
    const result = await this.db
      .updateTable("attempts")
      .set(patch)
      .where("runId", "=", key.runId)
      .where("taskId", "=", key.taskId)
      .where("tryNumber", "=", key.tryNumber)
      .where("state", "in", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Attempts not yet ended (launching or running), optionally of one executor. */
  async listActive(executor?: string): Promise<Attempt[]> {
    let query = this.db.selectFrom("attempts").selectAll().where("state", "in", ["launching", "running"]);
    if (executor !== undefined) query = query.where("executor", "=", executor);
    return query.execute();
  }
}
