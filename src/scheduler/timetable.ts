/**
 * Data intervals, as Airflow defines them: a scheduled run covers [start, end) and is created once
 * `end` has passed; its logical date is `start`. Cron ticks are computed in the pipeline's timezone.
 */
import { CronExpressionParser } from "cron-parser";
import type { ScheduleSpec } from "../pipelines/index.js";

export interface DataInterval {
  start: number;
  end: number;
}

/** Where a pipeline's schedule stands, and its limits. */
export interface TimetableState {
  /** End of the latest scheduled run's interval, or null before the first. */
  lastEnd: number | null;
  startDate: number;
  endDate: number | null;
  catchup: boolean;
  now: number;
}

/** Tick arithmetic of one schedule. */
interface Ticks {
  /** The first tick at or after t. */
  atOrAfter(t: number): number;
  /** The first tick strictly after t. */
  after(t: number): number;
  /** The last tick at or before t. */
  atOrBefore(t: number): number;
}

function cronTicks(expression: string, tz: string): Ticks {
  const parse = (t: number) => CronExpressionParser.parse(expression, { currentDate: new Date(t), tz });
  return {
    atOrAfter: (t) => parse(t - 1).next().getTime(),
    after: (t) => parse(t).next().getTime(),
    atOrBefore: (t) => parse(t + 1).prev().getTime(),
  };
}

function intervalTicks(anchor: number, everyMs: number): Ticks {
  return {
    atOrAfter: (t) => anchor + Math.max(0, Math.ceil((t - anchor) / everyMs)) * everyMs,
    after: (t) => anchor + Math.max(0, Math.floor((t - anchor) / everyMs) + 1) * everyMs,
    atOrBefore: (t) => anchor + Math.floor((t - anchor) / everyMs) * everyMs,
  };
}

function ticksOf(schedule: ScheduleSpec, timezone: string, anchor: number): Ticks | null {
  if (schedule.kind === "cron") return cronTicks(schedule.expression, timezone);
  if (schedule.kind === "interval") return intervalTicks(anchor, schedule.everyMs);
  return null;
}

/**
 * The next data interval to schedule after `state.lastEnd`, or null when the schedule has ended.
 * Without catchup, intervals that ended before the latest complete one are skipped.
 */
export function nextDataInterval(schedule: ScheduleSpec, timezone: string, state: TimetableState): DataInterval | null {
  if (schedule.kind === "once") {
    return state.lastEnd === null ? { start: state.startDate, end: state.startDate } : null;
  }
  const ticks = ticksOf(schedule, timezone, state.startDate);
  if (!ticks) return null;
  let start = state.lastEnd ?? ticks.atOrAfter(state.startDate);
  if (!state.catchup) {
    // The latest interval that has already ended: [tick before last tick, last tick].
    const lastTick = ticks.atOrBefore(state.now);
    const latestStart = ticks.atOrBefore(lastTick - 1);
    if (latestStart >= state.startDate) start = Math.max(start, latestStart);
  }
  if (state.endDate !== null && start > state.endDate) return null;
  return { start, end: ticks.after(start) };
}

/** Every data interval whose start (logical date) lies in [from, to], for backfills. */
export function intervalsBetween(schedule: ScheduleSpec, timezone: string, startDate: number, from: number, to: number, limit = 10_000): DataInterval[] {
  if (schedule.kind === "once") return from <= startDate && startDate <= to ? [{ start: startDate, end: startDate }] : [];
  const ticks = ticksOf(schedule, timezone, startDate);
  if (!ticks) return [];
  const intervals: DataInterval[] = [];
  let start = ticks.atOrAfter(Math.max(from, startDate));
  while (start <= to && intervals.length < limit) {
    const end = ticks.after(start);
    intervals.push({ start, end });
    start = end;
  }
  return intervals;
}
