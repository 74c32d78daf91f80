/** Runs and the creation of their task instances. */
import type { Insertable, Kysely, Updateable } from "kysely";
import { parseRun, type Run } from "./records.js";
import type { Database, RunsTable, TaskInstancesTable } from "./schema.js";
import type { RunState, RunTrigger } from "./states.js";

export type NewRun = Omit<Insertable<RunsTable>, "params" | "updatedAt"> & { params: Record<string, unknown> };
export type NewTaskInstance = Omit<Insertable<TaskInstancesTable>, "runId" | "updatedAt">;

export interface RunListFilter {
  pipelineId?: string;
  pipelineIds?: readonly string[];
  states?: readonly RunState[];
  trigger?: RunTrigger;
  /** Runs created before this run id's creation time (paging backwards). */
  limit?: number;
  offset?: number;
}

/** Task instance rows are inserted in chunks so SQLite's bound-variable limit is never reached. */
const INSERT_CHUNK = 400;

export class RunRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts a run with its task instances. Returns false, inserting nothing, when the pipeline already
   * has a run with the same run key (another scheduler created it).
   */
  async insert(run: NewRun, tasks: readonly NewTaskInstance[]): Promise<boolean> {
    const result = await this.db
      .insertInto("runs")
      .values({ ...run, params: JSON.stringify(run.params), updatedAt: run.createdAt })
      .onConflict((oc) => oc.columns(["pipelineId", "runKey"]).doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
    for (let i = 0; i < tasks.length; i += INSERT_CHUNK) {
      await this.db
        .insertInto("taskInstances")
        .values(tasks.slice(i, i + INSERT_CHUNK).map((t) => ({ ...t, runId: run.id, updatedAt: run.createdAt })))
        .execute();
    }
    return true;
  }

  async get(id: string): Promise<Run | undefined> {
    const row = await this.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
    return row && parseRun(row);
  }

  async findByKey(pipelineId: string, runKey: string): Promise<Run | undefined> {
    const row = await this.db.selectFrom("runs").selectAll().where("pipelineId", "=", pipelineId).where("runKey", "=", runKey).executeTakeFirst();
    return row && parseRun(row);
  }

  /** Newest first. */
  async list(filter: RunListFilter = {}): Promise<Run[]> {
    let query = this.db.selectFrom("runs").selectAll();
    if (filter.pipelineId !== undefined) query = query.where("pipelineId", "=", filter.pipelineId);
    if (filter.pipelineIds !== undefined) {
      if (filter.pipelineIds.length === 0) return [];
      query = query.where("pipelineId", "in", filter.pipelineIds);
    }
    if (filter.states !== undefined && filter.states.length > 0) query = query.where("state", "in", filter.states);
    if (filter.trigger !== undefined) query = query.where("trigger", "=", filter.trigger);
    const rows = await query
      .orderBy("logicalDate", "desc")
      .orderBy("createdAt", "desc")
      .limit(filter.limit ?? 100)
      .offset(filter.offset ?? 0)
      .execute();
    return rows.map(parseRun);
  }

  async count(filter: Omit<RunListFilter, "limit" | "offset"> = {}): Promise<number> {
    let query = this.db.selectFrom("runs").select((eb) => eb.fn.countAll<number>().as("n"));
    if (filter.pipelineId !== undefined) query = query.where("pipelineId", "=", filter.pipelineId);
    if (filter.pipelineIds !== undefined) {
      if (filter.pipelineIds.length === 0) return 0;
      query = query.where("pipelineId", "in", filter.pipelineIds);
    }
    if (filter.states !== undefined && filter.states.length > 0) query = query.where("state", "in", filter.states);
    if (filter.trigger !== undefined) query = query.where("trigger", "=", filter.trigger);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Runs in the given states, oldest logical date first. */
  async listInStates(states: readonly RunState[]): Promise<Run[]> {
    const rows = await this.db.selectFrom("runs").selectAll().where("state", "in", states).orderBy("logicalDate").orderBy("createdAt").execute();
    return rows.map(parseRun);
  }

  /** Moves a run from one of `from` to `to`; false when it was in none of them. */
  async move(id: string, from: readonly RunState[], to: RunState, patch: Omit<Updateable<RunsTable>, "state" | "id">, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable("runs")
      .set({ ...patch, state: to, updatedAt: now })
      .where("id", "=", id)
      .where("state", "in", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The end of the latest data interval of the pipeline's scheduled runs (the schedule's position). */
  async lastScheduledIntervalEnd(pipelineId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom("runs")
      .select((eb) => eb.fn.max("dataIntervalEnd").as("end"))
      .where("pipelineId", "=", pipelineId)
      .where("trigger", "=", "scheduled")
      .executeTakeFirst();
    return row?.end === null || row?.end === undefined ? null : Number(row.end);
  }

  /** Runs in each of `states`, over all pipelines (the states' index answers it). */
  async countInStates(states: readonly RunState[]): Promise<Map<RunState, number>> {
    const rows = await this.db
      .selectFrom("runs")
      .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
      .where("state", "in", states)
      .groupBy("state")
      .execute();
    return new Map(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Active (queued or running) runs per pipeline. */
  async activeCounts(): Promise<Map<string, { queued: number; running: number }>> {
    const rows = await this.db
      .selectFrom("runs")
      .select(["pipelineId", "state", (eb) => eb.fn.countAll<number>().as("n")])
      .where("state", "in", ["queued", "running"])
      .groupBy(["pipelineId", "state"])
      .execute();
    const counts = new Map<string, { queued: number; running: number }>();
    for (const row of rows) {
      const entry = counts.get(row.pipelineId) ?? { queued: 0, running: 0 };
      if (row.state === "queued") entry.queued = Number(row.n);
      else entry.running = Number(row.n);
      counts.set(row.pipelineId, entry);
    }
    return counts;
  }
}
