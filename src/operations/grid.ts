/**
 * The runs × tasks grid of a pipeline, in the compact shape the UI draws from: task ids once, and
 * per run the states and tries in that order. Three indexed queries, whatever the size.
 */
import { isoOrNull, type GridView } from "./views.js";
import type { TaskState } from "../store/index.js";
import { forEachCell } from "../store/run-grid-repository.js";
import type { OperationsContext } from "./context.js";

/** The latest runs of a pipeline (newest first) with every task's state and tries, in task order. */
export async function pipelineGrid(ctx: OperationsContext, pipelineId: string, limit: number, offset: number): Promise<GridView> {
  const { store, pipelines: registry } = ctx;
  const { runs, total } = await store.grid.page({ pipelineIds: [pipelineId] }, limit, offset);
  const texts = await store.grid.cellTexts(runs.map((r) => r.id));
  const spec = registry.get(pipelineId)?.spec;
  const order = [...(spec?.taskOrder ?? [])];
  const index = new Map(order.map((id, i) => [id, i]));
  // Tasks of older versions that the current one no longer has go after the current ones.
  const extra = new Set<string>();
  for (const text of texts.values()) {
    forEachCell(text, (taskId) => {
      if (!index.has(taskId)) extra.add(taskId);
    });
  }
  for (const id of [...extra].sort()) {
    index.set(id, order.length);
    order.push(id);
  }
  const rowOf = new Map<string, { states: (TaskState | "")[]; tries: number[] }>();
  for (const run of runs) {
    const row = { states: new Array<TaskState | "">(order.length).fill(""), tries: new Array<number>(order.length).fill(0) };
    forEachCell(texts.get(run.id) ?? "", (taskId, state, tryNumber) => {
      const i = index.get(taskId);
      if (i === undefined) return;
      row.states[i] = state;
      row.tries[i] = tryNumber;
    });
    rowOf.set(run.id, row);
  }
  return {
    pipeline: pipelineId,
    total,
    tasks: order.map((id) => {
      const task = spec?.tasks[id];
      return { id, kind: task?.kind ?? "unknown", depends_on: task?.dependsOn ?? [] };
    }),
    runs: runs.map((r) => {
      const row = rowOf.get(r.id);
      return {
        id: r.id,
        state: r.state,
        trigger: r.trigger,
        version: r.version,
        logical_date: new Date(r.logicalDate).toISOString(),
        started_at: isoOrNull(r.startedAt),
        ended_at: isoOrNull(r.endedAt),
        states: row?.states ?? [],
        tries: row?.tries ?? [],
      };
    }),
  };
}
