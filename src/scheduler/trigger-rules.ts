/**
 * Airflow's trigger rules: given the states of a task's direct upstreams, whether it runs now, keeps
 * waiting, is skipped, or becomes upstream_failed.
 */
import type { TriggerRule } from "../pipelines/index.js";
import type { TaskState } from "../store/index.js";

export type TriggerDecision = "run" | "wait" | "skip" | "upstream_failed";

interface Counts {
  total: number;
  success: number;
  skipped: number;
  failed: number;
  upstreamFailed: number;
  done: number;
}

function count(states: readonly TaskState[]): Counts {
  const c: Counts = { total: states.length, success: 0, skipped: 0, failed: 0, upstreamFailed: 0, done: 0 };
  for (const s of states) {
    if (s === "success") c.success++;
    else if (s === "skipped") c.skipped++;
    else if (s === "failed") c.failed++;
    else if (s === "upstream_failed") c.upstreamFailed++;
    else if (s === "cancelled") c.failed++;
    else continue;
    c.done++;
  }
  return c;
}

/** Decides what a task does given its rule and its direct upstreams' states. */
export function evaluateTriggerRule(rule: TriggerRule, upstream: readonly TaskState[]): TriggerDecision {
  if (upstream.length === 0 || rule === "always") return "run";
  const c = count(upstream);
  const allDone = c.done === c.total;
  const anyFailed = c.failed + c.upstreamFailed > 0;
  switch (rule) {
    case "all_success":
      if (anyFailed) return "upstream_failed";
      if (c.skipped > 0) return "skip";
      return c.success === c.total ? "run" : "wait";
    case "all_failed":
      if (c.success > 0 || c.skipped > 0) return "skip";
      return allDone ? "run" : "wait";
    case "all_done":
      return allDone ? "run" : "wait";
    case "all_skipped":
      if (c.success > 0 || anyFailed) return "skip";
      return allDone ? "run" : "wait";
    case "one_success":
      if (c.success > 0) return "run";
      if (!allDone) return "wait";
      return c.skipped === c.total ? "skip" : "upstream_failed";
    case "one_failed":
      if (anyFailed) return "run";
      return allDone ? "skip" : "wait";
    case "one_done":
      if (c.success > 0 || c.failed > 0) return "run";
      return allDone ? "skip" : "wait";
    case "none_failed":
      if (anyFailed) return "upstream_failed";
      return allDone ? "run" : "wait";
    case "none_skipped":
      if (c.skipped > 0) return "skip";
      return allDone ? "run" : "wait";
    case "none_failed_min_one_success":
      if (anyFailed) return "upstream_failed";
      if (!allDone) return "wait";
      return c.success > 0 ? "run" : "skip";
  }
}

/**
 * The state of a finished run, as Airflow decides it: failed when any leaf task failed or had an
 * upstream fail, success when every leaf succeeded or was skipped.
 */
export function finishedRunState(leafStates: readonly TaskState[]): "success" | "failed" {
  return leafStates.some((s) => s === "failed" || s === "upstream_failed" || s === "cancelled") ? "failed" : "success";
}
