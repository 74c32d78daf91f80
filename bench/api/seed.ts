/**
 * Bulk seeding for the API benchmark: N runs of a pipeline with T tasks each, written straight
 * through the store's database in large multi-row inserts (one transaction per batch), with a mix
 * of run and task states like a pipeline's history has.
 */
import { sql, type Insertable } from "kysely";
import type { RunState, Store, TaskState } from "../../src/store/index.js";
import type { RunsTable, TaskInstancesTable } from "../../src/store/schema.js";

const RUNS_PER_BATCH = 200;
/** Rows per INSERT: below SQLite's and PostgreSQL's bound-variable limits for these tables. */
const ROWS_PER_INSERT = 1000;

export interface SeedOptions {
  pipelineId: string;
  version: string;
  taskIds: readonly string[];
  runs: number;
  /** Logical date of the newest run; older runs go back one hour each. */
  newest: number;
}

/** Task states of a run: mostly all success; every 10th fails a task (the rest upstream_failed); every 25th is still running. */
function statesFor(index: number, tasks: number): { run: RunState; tasks: TaskState[] } {
  if (index % 25 === 0) {
    const done = Math.floor(tasks / 2);
    return { run: "running", tasks: Array.from({ length: tasks }, (_, i) => (i < done ? "success" : i === done ? "running" : "none")) };
  }
  if (index % 10 === 0) {
    const failed = (index * 7) % tasks;
    return { run: "failed", tasks: Array.from({ length: tasks }, (_, i) => (i < failed ? "success" : i === failed ? "failed" : "upstream_failed")) };
  }
  return { run: "success", tasks: Array.from({ length: tasks }, () => "success" as const) };
}

/** Inserts the runs and their task instances; returns how long it took in ms. */
export async function seedRuns(store: Store, options: SeedOptions): Promise<number> {
  const started = performance.now();
  const hour = 3600_000;
  for (let first = 0; first < options.runs; first += RUNS_PER_BATCH) {
    const runRows: Insertable<RunsTable>[] = [];
    const taskRows: Insertable<TaskInstancesTable>[] = [];
    for (let i = first; i < Math.min(options.runs, first + RUNS_PER_BATCH); i++) {
      const logicalDate = options.newest - i * hour;
      const id = `${options.pipelineId}-${new Date(logicalDate).toISOString().replace(/[-:]/g, "").slice(0, 15)}-${i.toString(36).padStart(4, "0")}`;
      const states = statesFor(i, options.taskIds.length);
      const ended = states.run === "running" ? null : logicalDate + 15 * 60_000;
      runRows.push({
        id,
        pipelineId: options.pipelineId,
        version: options.version,
        runKey: `bench-${i}`,
        trigger: "scheduled" as const,
        state: states.run,
        logicalDate,
        dataIntervalStart: logicalDate - hour,
        dataIntervalEnd: logicalDate,
        params: "{}",
        note: null,
        createdBy: null,
        createdAt: logicalDate,
        startedAt: logicalDate + 1000,
        endedAt: ended,
        updatedAt: ended ?? logicalDate,
      });
      options.taskIds.forEach((taskId, t) => {
        const state = states.tasks[t] ?? "none";
        const ran = state === "success" || state === "failed" || state === "running";
        taskRows.push({
          runId: id,
          taskId,
          pipelineId: options.pipelineId,
          state,
          tryNumber: ran ? 1 : 0,
          maxTries: 1,
          pool: "default",
          poolSlots: 1,
          priorityWeight: 1,
          scheduledAt: ran ? logicalDate + 1000 : null,
          queuedAt: ran ? logicalDate + 1000 : null,
          startedAt: ran ? logicalDate + 2000 + t * 1000 : null,
          endedAt: ran && state !== "running" ? logicalDate + 3000 + t * 1000 : null,
          nextRetryAt: null,
          outputs: state === "success" ? '{"rows": 1}' : null,
          reason: state === "failed" ? "exit code 1" : null,
          updatedAt: logicalDate,
        });
      });
    }
    await store.db.transaction().execute(async (trx) => {
      await trx.insertInto("runs").values(runRows).execute();
      for (let i = 0; i < taskRows.length; i += ROWS_PER_INSERT) await trx.insertInto("taskInstances").values(taskRows.slice(i, i + ROWS_PER_INSERT)).execute();
    });
  }
  // Fresh statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) would have them for a store this size.
  await sql`analyze`.execute(store.db);
  return performance.now() - started;
}
