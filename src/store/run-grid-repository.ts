/**
 * Reads for the HTTP API's run lists and grids: task states of many runs in one query, state
 * counts per run, and the latest runs of many pipelines at once. Each read is one indexed query.
 * The reads of thousands of task rows are written in SQL and mapped here by hand: the general
 * snake_case → camelCase mapping costs more than the query itself at that size.
 */
import { sql, type Kysely } from "kysely";
import { parseRun, type Run, type TaskInstance } from "./records.js";
import type { Database } from "./schema.js";
import type { RunState, TaskState } from "./states.js";

/** Which runs a page holds: of these pipelines (all when absent), in these states (any when absent). */
export interface RunPageFilter {
  pipelineIds?: readonly string[];
  states?: readonly RunState[];
}

/** The state and tries of one task instance, for grids. */
export interface TaskCell {
  runId: string;
  taskId: string;
  state: TaskState;
  tryNumber: number;
}

const TASK_COLUMNS = [
  "run_id",
  "task_id",
  "pipeline_id",
  "state",
  "try_number",
  "max_tries",
  "pool",
  "pool_slots",
  "priority_weight",
  "scheduled_at",
  "queued_at",
  "started_at",
  "ended_at",
  "next_retry_at",
  "outputs",
  "reason",
  "updated_at",
] as const;

interface TaskInstanceRow {
  run_id: string;
  task_id: string;
  pipeline_id: string;
  state: TaskState;
  try_number: number;
  max_tries: number;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  scheduled_at: number | null;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  next_retry_at: number | null;
  outputs: string | null;
  reason: string | null;
  updated_at: number;
}

/** Calls `each` for every cell of a text from `cellTexts`. */
export function forEachCell(text: string, each: (taskId: string, state: TaskState, tryNumber: number) => void): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(",", start);
    if (end < 0) end = text.length;
    const first = text.indexOf(":", start);
    const second = text.indexOf(":", first + 1);
    if (first > start && second > first && second < end) each(text.slice(start, first), text.slice(first + 1, second) as TaskState, Number(text.slice(second + 1, end)));
    start = end + 1;
  }
}

function numberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

/** Pipelines per statement when reading the latest runs of many (keeps bound variables few). */
const PIPELINES_PER_QUERY = 100;

export class RunGridRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: "sqlite" | "postgres",
  ) {}

  /**
   * A page of runs, newest first, with the number of runs the filter matches. (Two indexed queries:
   * a window count in the page's query would read every matching row in full.)
   */
  async page(filter: RunPageFilter, limit: number, offset: number): Promise<{ runs: Run[]; total: number }> {
    if (filter.pipelineIds !== undefined && filter.pipelineIds.length === 0) return { runs: [], total: 0 };
    let rows = this.db.selectFrom("runs").selectAll();
    let count = this.db.selectFrom("runs").select((eb) => eb.fn.countAll<number>().as("n"));
    if (filter.pipelineIds !== undefined) {
      const ids = filter.pipelineIds;
      rows = ids.length === 1 ? rows.where("pipelineId", "=", ids[0] ?? "") : rows.where("pipelineId", "in", ids);
      count = ids.length === 1 ? count.where("pipelineId", "=", ids[0] ?? "") : count.where("pipelineId", "in", ids);
    }
    if (filter.states !== undefined && filter.states.length > 0) {
      rows = rows.where("state", "in", filter.states);
      count = count.where("state", "in", filter.states);
    }
    const [page, total] = await Promise.all([rows.orderBy("logicalDate", "desc").orderBy("createdAt", "desc").limit(limit).offset(offset).execute(), count.executeTakeFirstOrThrow()]);
    return { runs: page.map(parseRun), total: Number(total.n) };
  }

  /**
   * Each run's cells as one text, `task:state:tries,…` (task ids cannot contain ':' or ','): the
   * database joins them, so 100 rows come back instead of 5,000. See `forEachCell`.
   */
  async cellTexts(runIds: readonly string[]): Promise<Map<string, string>> {
    if (runIds.length === 0) return new Map();
    const concat = this.dialect === "postgres" ? sql`string_agg(task_id || ':' || state || ':' || try_number, ',')` : sql`group_concat(task_id || ':' || state || ':' || try_number, ',')`;
    const { rows } = await sql<{ run_id: string; cells: string }>`
      select run_id, ${concat} as cells from task_instances where run_id in (${sql.join(runIds)}) group by run_id`.execute(this.db.withoutPlugins());
    return new Map(rows.map((r) => [r.run_id, r.cells]));
  }

  /** State and tries of every task instance of the given runs. */
  async cells(runIds: readonly string[]): Promise<TaskCell[]> {
    const cells: TaskCell[] = [];
    for (const [runId, text] of await this.cellTexts(runIds)) forEachCell(text, (taskId, state, tryNumber) => cells.push({ runId, taskId, state, tryNumber }));
    return cells;
  }

  /**
   * Every task instance of the given runs (the same records as TaskInstanceRepository.listByRuns):
   * the database builds one JSON array per run, which parses far faster than thousands of rows.
   */
  async taskInstances(runIds: readonly string[]): Promise<TaskInstance[]> {
    if (runIds.length === 0) return [];
    const fields = TASK_COLUMNS.map((c) => sql`${sql.lit(c)}, ${sql.ref(c)}`);
    const aggregate =
      this.dialect === "postgres"
        ? sql`json_agg(json_build_object(${sql.join(fields)}))::text`
        : sql`json_group_array(json_object(${sql.join(fields)}))`;
    const { rows } = await sql<{ tasks: string }>`select ${aggregate} as tasks from task_instances where run_id in (${sql.join(runIds)}) group by run_id`.execute(this.db.withoutPlugins());
    const out: TaskInstance[] = [];
    for (const row of rows) {
      for (const r of JSON.parse(row.tasks) as TaskInstanceRow[]) {
        out.push({
          runId: r.run_id,
          taskId: r.task_id,
          pipelineId: r.pipeline_id,
          state: r.state,
          tryNumber: Number(r.try_number),
          maxTries: Number(r.max_tries),
          pool: r.pool,
          poolSlots: Number(r.pool_slots),
          priorityWeight: Number(r.priority_weight),
          scheduledAt: numberOrNull(r.scheduled_at),
          queuedAt: numberOrNull(r.queued_at),
          startedAt: numberOrNull(r.started_at),
          endedAt: numberOrNull(r.ended_at),
          nextRetryAt: numberOrNull(r.next_retry_at),
          outputs: r.outputs === null ? null : (JSON.parse(r.outputs) as Record<string, unknown>),
          reason: r.reason,
          updatedAt: Number(r.updated_at),
        });
      }
    }
    return out;
  }

  /** How many task instances of each run are in each state. */
  async stateCounts(runIds: readonly string[]): Promise<Map<string, Partial<Record<TaskState, number>>>> {
    const counts = new Map<string, Partial<Record<TaskState, number>>>();
    if (runIds.length === 0) return counts;
    const { rows } = await sql<{ run_id: string; state: TaskState; n: number | string }>`
      select run_id, state, count(*) as n from task_instances where run_id in (${sql.join(runIds)}) group by run_id, state`.execute(this.db.withoutPlugins());
    for (const row of rows) {
      const entry = counts.get(row.run_id) ?? {};
      entry[row.state] = Number(row.n);
      counts.set(row.run_id, entry);
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
