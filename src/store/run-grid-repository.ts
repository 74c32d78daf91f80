/**
 * Reads for the HTTP API's run lists and grids: task states of many runs in one query, state
 * counts per run, and the latest runs of many pipelines at once. Each read is one indexed query.
 */
import type { Kysely } from "kysely";
import { parseRun, type Run } from "./records.js";
import type { Database } from "./schema.js";
import type { TaskState } from "./states.js";

/** The state and try count of one task instance, for grids. */
export interface TaskCell {
  runId: string;
  taskId: string;
  state: TaskState;
  tryNumber: number;
}

/** Pipelines per statement when reading the latest runs of many (keeps bound variables few). */
const PIPELINES_PER_QUERY = 100;

export class RunGridRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** State and tries of every task instance of the given runs. */
  async cells(runIds: readonly string[]): Promise<TaskCell[]> {
    if (runIds.length === 0) return [];
    return this.db.selectFrom("taskInstances").select(["runId", "taskId", "state", "tryNumber"]).where("runId", "in", runIds).execute();
  }

  /** How many task instances of each run are in each state. */
  async stateCounts(runIds: readonly string[]): Promise<Map<string, Partial<Record<TaskState, number>>>> {
    const counts = new Map<string, Partial<Record<TaskState, number>>>();
    if (runIds.length === 0) return counts;
    const rows = await this.db
      .selectFrom("taskInstances")
      .select(["runId", "state", (eb) => eb.fn.countAll<number>().as("n")])
      .where("runId", "in", runIds)
      .groupBy(["runId", "state"])
      .execute();
    for (const row of rows) {
      const entry = counts.get(row.runId) ?? {};
      entry[row.state] = Number(row.n);
      counts.set(row.runId, entry);
    }
    return counts;
  }

  /** The latest `perPipeline` runs of each pipeline (newest first), read with one statement per 100 pipelines. */
  async latestRuns(pipelineIds: readonly string[], perPipeline: number): Promise<Map<string, Run[]>> {
    const byPipeline = new Map<string, Run[]>(pipelineIds.map((id) => [id, []]));
    for (let i = 0; i < pipelineIds.length; i += PIPELINES_PER_QUERY) {
      const ids = pipelineIds.slice(i, i + PIPELINES_PER_QUERY);
      const parts = ids.map((id) =>
        this.db
          .selectFrom((db) =>
            db.selectFrom("runs").selectAll().where("pipelineId", "=", id).orderBy("logicalDate", "desc").orderBy("createdAt", "desc").limit(perPipeline).as("latest"),
          )
          .selectAll(),
      );
      const [first, ...rest] = parts;
      if (!first) continue;
      const query = rest.reduce((union, part) => union.unionAll(part), first);
      for (const row of await query.execute()) byPipeline.get(row.pipelineId)?.push(parseRun(row));
    }
    for (const runs of byPipeline.values()) runs.sort((a, b) => b.logicalDate - a.logicalDate || b.createdAt - a.createdAt);
    return byPipeline;
  }
}
