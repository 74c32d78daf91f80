/**
 * The runs × tasks grid of a pipeline, in the compact shape the UI draws from: task ids once, and
 * per run the states and tries in that order. Three indexed queries, whatever the size.
 */
import type { Platform } from "../../platform/index.js";
import { isoOrNull } from "../../platform/index.js";

export interface GridView {
  pipeline: string;
  total: number;
  tasks: { id: string; kind: string; depends_on: string[] }[];
  runs: {
    id: string;
    state: string;
    trigger: string;
    version: string;
    logical_date: string;
    started_at: string | null;
    ended_at: string | null;
    /** One per task of `tasks`; "" where the run has no such task (another version). */
    states: string[];
    tries: number[];
  }[];
}

export async function buildGrid(platform: Platform, pipelineId: string, limit: number, offset: number): Promise<GridView> {
  const { store, registry } = platform;
  const [runs, total] = await Promise.all([store.runs.list({ pipelineId, limit, offset }), store.runs.count({ pipelineId })]);
  const cells = await store.grid.cells(runs.map((r) => r.id));
  const spec = registry.get(pipelineId)?.spec;
  const order = [...(spec?.taskOrder ?? [])];
  const index = new Map(order.map((id, i) => [id, i]));
  const extra = new Set<string>();
  for (const cell of cells) if (!index.has(cell.taskId)) extra.add(cell.taskId);
  for (const id of [...extra].sort()) {
    index.set(id, order.length);
    order.push(id);
  }
  const rowOf = new Map(runs.map((r) => [r.id, { states: new Array<string>(order.length).fill(""), tries: new Array<number>(order.length).fill(0) }]));
  for (const cell of cells) {
    const row = rowOf.get(cell.runId);
    const i = index.get(cell.taskId);
    if (!row || i === undefined) continue;
    row.states[i] = cell.state;
    row.tries[i] = cell.tryNumber;
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
