/**
 * The run steps of a scheduling pass: starting queued runs within `max_active_runs`, and applying
 * trigger rules to the tasks of a changed run (reading only those rows and their upstreams), which
 * finishes the run when all its tasks are done.
 */
import { isFinishedTask, type Run, type TaskState } from "../store/index.js";
import type { SchedulerContext } from "./scheduler-context.js";
import { moveRun, moveTask, type StateChange } from "./task-state.js";
import { evaluateTriggerRule, finishedRunState } from "./trigger-rules.js";

/** What changed in a run since its last evaluation. */
export interface DirtyRun {
  /** Every task (a new or restarted run, or a change heard from another process). */
  all: boolean;
  /** These tasks changed; they and their downstream tasks are looked at. */
  tasks: Set<string>;
}

/** Moves queued runs to running while their pipeline has room under `max_active_runs`. */
export async function startQueuedRuns(ctx: SchedulerContext): Promise<void> {
  const { store, clock, versions } = ctx;
  const queued = await store.runs.listInStates(["queued"]);
  if (queued.length === 0) return;
  const counts = await store.runs.activeCounts();
  const changes: StateChange[] = [];
  for (const run of queued) {
    if (!ctx.inScope(run.id)) continue;
    const version = await versions.get(run.pipelineId, run.version);
    const running = counts.get(run.pipelineId)?.running ?? 0;
    if (running >= version.spec.maxActiveRuns) continue;
    const moved = await store.transaction((tx) => moveRun(tx, run, ["queued"], "running", { startedAt: run.startedAt ?? clock.now(), endedAt: null }, clock.now(), changes));
    if (moved) {
      counts.set(run.pipelineId, { queued: 0, running: running + 1 });
      ctx.markDirty(run.id, null);
    }
  }
  ctx.emit(changes);
}

/**
 * Applies trigger rules to the changed tasks of a running run and what follows them, and finishes
 * the run when all its tasks are done. Returns the run and its final state when it finished.
 */
export async function evaluateRun(ctx: SchedulerContext, runId: string, dirty: DirtyRun): Promise<{ run: Run; state: string } | undefined> {
  const { store, clock, versions } = ctx;
  const run = await store.runs.get(runId);
  if (run?.state !== "running") return undefined;
  const version = await versions.get(run.pipelineId, run.version);
  const { dag, spec } = version;
  const candidates = dirty.all ? new Set(dag.tasks) : new Set([...dirty.tasks].flatMap((t) => [t, ...dag.downstream(t)]));
  const now = clock.now();
  const changes: StateChange[] = [];
  const key = (taskId: string) => ({ runId, taskId, pipelineId: run.pipelineId });
  await store.transaction(async (tx) => {
    // Only the candidates and their upstreams are read, so one ended task in a large run costs
    // a few rows, not the whole run.
    const states = new Map<string, TaskState>();
    const load = async (ids: Iterable<string>) => {
      const missing = [...new Set(ids)].filter((id) => !states.has(id));
      if (missing.length === 0) return;
      for (const ti of await tx.tasks.listByRun(runId, missing)) states.set(ti.taskId, ti.state);
    };
    if (dirty.all) await load(dag.tasks);
    else await load([...candidates].flatMap((t) => [t, ...dag.upstream(t)]));
    for (const taskId of spec.taskOrder) {
      if (!candidates.has(taskId)) continue;
      await load([taskId, ...dag.upstream(taskId)]);
      if (states.get(taskId) !== "none") continue;
      const task = spec.tasks[taskId];
      if (!task) continue;
      const upstream = dag.upstream(taskId).map((u) => states.get(u) ?? "none");
      const decision = evaluateTriggerRule(task.triggerRule, upstream);
      if (decision === "wait") continue;
      const to: TaskState = decision === "run" ? "scheduled" : decision === "skip" ? "skipped" : "upstream_failed";
      const patch = to === "scheduled" ? { scheduledAt: now } : { endedAt: now, reason: to === "skipped" ? `skipped by trigger rule ${task.triggerRule}` : `an upstream task failed (trigger rule ${task.triggerRule})` };
      if (await moveTask(tx, key(taskId), ["none"], to, patch, now, changes)) {
        states.set(taskId, to);
        if (to !== "scheduled") for (const d of dag.downstream(taskId)) candidates.add(d);
      }
    }
    const counts = await tx.tasks.countByState(runId);
    if ([...counts.keys()].every(isFinishedTask)) {
      await load(dag.leaves());
      const state = finishedRunState(dag.leaves().map((t) => states.get(t) ?? "none"));
      await moveRun(tx, run, ["running"], state, { endedAt: now }, now, changes);
    }
  });
  ctx.emit(changes);
  const finished = changes.find((c) => c.kind === "run");
  return finished ? { run, state: finished.state } : undefined;
}
