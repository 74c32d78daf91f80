/**
 * Schedules: creates the scheduled runs that are due for each pipeline (one per data interval,
 * within `max_active_runs`) and keeps one clock timer per pipeline for its next interval's end.
 */
import { resolveParams } from "../pipelines/index.js";
import type { ClockTimer } from "../clock/index.js";
import { buildRun, intervalRunKey, type RunRequest } from "./run-factory.js";
import type { SchedulerContext } from "./scheduler-context.js";
import { nextDataInterval } from "./timetable.js";

/** A loop guard: more due intervals than this in one check wait for the next. */
const MAX_RUNS_PER_CHECK = 1000;

export class ScheduleTimers {
  readonly #ctx: SchedulerContext;
  /** False for a one-off scheduler (`capstan run --wait`), which creates no scheduled runs. */
  readonly #enabled: boolean;
  readonly #timers = new Map<string, { at: number; timer: ClockTimer }>();

  constructor(ctx: SchedulerContext, options: { enabled: boolean }) {
    this.#ctx = ctx;
    this.#enabled = options.enabled;
  }

  /** Checks every loaded pipeline's schedule, and forgets the timers of pipelines no longer loaded. */
  checkAll(): void {
    if (!this.#enabled) return;
    const ids = new Set(this.#ctx.versions.source.list().map((p) => p.spec.id));
    for (const [id, entry] of this.#timers) {
      if (!ids.has(id)) {
        entry.timer.clear();
        this.#timers.delete(id);
      }
    }
    for (const id of ids) this.#ctx.track(this.check(id));
  }

  /** Creates the scheduled runs that are due for one pipeline and arms a timer for the next. */
  async check(pipelineId: string): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.isClosed() || !this.#enabled) return;
    const version = ctx.versions.current(pipelineId);
    const spec = version?.spec;
    if (!version || !spec?.schedule || spec.startDate === null) return;
    const row = await ctx.store.pipelines.get(pipelineId);
    if (row?.paused === 1) return;
    for (let guard = 0; guard < MAX_RUNS_PER_CHECK; guard++) {
      const lastEnd = await ctx.store.runs.lastScheduledIntervalEnd(pipelineId);
      const now = ctx.clock.now();
      const interval = nextDataInterval(spec.schedule, spec.timezone, { lastEnd, startDate: spec.startDate, endDate: spec.endDate, catchup: spec.catchup, now });
      if (!interval) return;
      if (interval.end > now) {
        this.#arm(pipelineId, interval.end);
        return;
      }
      const active = (await ctx.store.runs.activeCounts()).get(pipelineId);
      if (active && active.queued + active.running >= spec.maxActiveRuns) return; // re-checked when a run ends
      const request: RunRequest = { trigger: "scheduled", runKey: intervalRunKey(interval), logicalDate: interval.start, interval, params: resolveParams(spec.params, {}) };
      const { run, tasks } = buildRun(version, request, now);
      const created = await ctx.store.transaction((tx) => tx.runs.insert(run, tasks));
      if (!created) {
        // Another scheduler made it, or a backfill already covered this interval: the schedule moves on only through scheduled runs.
        const existing = await ctx.store.runs.findByKey(pipelineId, request.runKey ?? "");
        if (existing?.trigger !== "scheduled") {
          ctx.log.warn({ pipeline: pipelineId, interval: new Date(interval.start).toISOString() }, "interval already has a backfill or manual run; scheduling it anyway is skipped");
          this.#arm(pipelineId, now + 60_000);
        }
        return;
      }
      ctx.log.info({ pipeline: pipelineId, run: run.id, logicalDate: new Date(interval.start).toISOString() }, "scheduled run created");
      ctx.emit([{ kind: "run", runId: run.id, pipelineId, state: "queued" }]);
      ctx.runsChanged();
      ctx.wake();
    }
  }

  /** Clears every timer (the scheduler stops). */
  stop(): void {
    for (const { timer } of this.#timers.values()) timer.clear();
  }

  #arm(pipelineId: string, at: number): void {
    const existing = this.#timers.get(pipelineId);
    if (existing && existing.at === at) return;
    existing?.timer.clear();
    const timer = this.#ctx.clock.setTimer(at, () => {
      this.#timers.delete(pipelineId);
      this.#ctx.track(this.check(pipelineId));
    });
    this.#timers.set(pipelineId, { at, timer });
  }
}
