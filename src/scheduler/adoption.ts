/**
 * Adoption at start: each executor is asked to re-find the attempts the store still has as
 * launching or running. Found ones are marked running, get their timeouts back and have a kill
 * asked for while no scheduler ran carried out; the rest end (lost, usually) and the retry policy
 * decides. Local attempts are adopted only by a scheduler on their own host.
 */
import { attemptKey, type AttemptEnd, type StoredAttempt } from "../executors/executor.js";
import type { Attempt } from "../store/index.js";
import type { AttemptEnds } from "./attempt-ends.js";
import type { AttemptTimeouts } from "./attempt-timeouts.js";
import { KAFKA_SENSOR_EXECUTOR, type ExecutorRegistry, type SchedulerContext } from "./scheduler-context.js";
import { moveTask, type StateChange } from "./task-state.js";

export interface AdoptionOptions {
  executors: ExecutorRegistry;
  /** This machine: local attempts of other hosts are theirs to adopt. */
  host: string;
  ends: AttemptEnds;
  timeouts: AttemptTimeouts;
}

const NOT_FOUND: AttemptEnd = { outcome: "lost", exitCode: null, reason: "the attempt was not found after a restart", outputs: null, retryable: true };

/** Adopts or ends every attempt a previous scheduler left launching or running. */
export async function adoptAttempts(ctx: SchedulerContext, options: AdoptionOptions): Promise<void> {
  const { store, clock, versions, log } = ctx;
  const active = await store.attempts.listActive();
  const byExecutor = new Map<string, Attempt[]>();
  for (const attempt of active) {
    // Local attempts, and sensors (consumed inside the scheduler that launched them), belong to their host.
    if ((attempt.executor === "local" || attempt.executor === KAFKA_SENSOR_EXECUTOR) && attempt.host !== options.host) continue;
    const list = byExecutor.get(attempt.executor) ?? [];
    list.push(attempt);
    byExecutor.set(attempt.executor, list);
  }
  for (const [name, attempts] of byExecutor) {
    const executor = options.executors.get(name);
    if (!executor) {
      for (const a of attempts) {
        await options.ends.record(name, a, { outcome: "lost", exitCode: null, reason: `executor ${name} is no longer configured`, outputs: null, retryable: true });
      }
      continue;
    }
    const stored: StoredAttempt[] = attempts.map((a) => ({ ...a }));
    const results = await executor.adopt(stored);
    for (const attempt of attempts) {
      const result = results.get(attemptKey(attempt)) ?? { status: "ended" as const, end: NOT_FOUND };
      if (result.status !== "running") {
        await options.ends.record(name, attempt, result.end);
        continue;
      }
      const changes: StateChange[] = [];
      const now = clock.now();
      await store.transaction(async (tx) => {
        await tx.attempts.update(attempt, ["launching"], { state: "running" });
        const run = await tx.runs.get(attempt.runId);
        if (run) await moveTask(tx, { ...attempt, pipelineId: run.pipelineId }, ["queued"], "running", { startedAt: attempt.startedAt }, now, changes);
      });
      ctx.emit(changes);
      const run = await store.runs.get(attempt.runId);
      const task = run ? (await versions.get(run.pipelineId, run.version)).spec.tasks[attempt.taskId] : undefined;
      if (task) options.timeouts.arm(attempt, executor, task, attempt.startedAt);
      log.info({ run: attempt.runId, task: attempt.taskId, try: attempt.tryNumber }, "adopted a running attempt");
      // A kill asked for while no scheduler ran (cancel, clear, timeout) is carried out now.
      if (attempt.killReason !== null) await executor.kill(attempt, attempt.killReason);
    }
  }
}
