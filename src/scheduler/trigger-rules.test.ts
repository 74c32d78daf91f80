import { describe, expect, it } from "vitest";
import type { TriggerRule } from "../pipelines/index.js";
import type { TaskState } from "../store/index.js";
import { evaluateTriggerRule, finishedRunState } from "./trigger-rules.js";

const S: TaskState = "success";
const F: TaskState = "failed";
const K: TaskState = "skipped";
const U: TaskState = "upstream_failed";
const R: TaskState = "running";

const table: [TriggerRule, TaskState[], string][] = [
  ["all_success", [S, S], "run"],
  ["all_success", [S, R], "wait"],
  ["all_success", [S, F], "upstream_failed"],
  ["all_success", [R, U], "upstream_failed"],
  ["all_success", [S, K], "skip"],
  ["all_failed", [F, U], "run"],
  ["all_failed", [F, R], "wait"],
  ["all_failed", [F, S], "skip"],
  ["all_done", [S, F, K], "run"],
  ["all_done", [S, R], "wait"],
  ["all_skipped", [K, K], "run"],
  ["all_skipped", [K, S], "skip"],
  ["one_success", [S, R], "run"],
  ["one_success", [F, R], "wait"],
  ["one_success", [F, K], "upstream_failed"],
  ["one_success", [K, K], "skip"],
  ["one_failed", [F, R], "run"],
  ["one_failed", [S, R], "wait"],
  ["one_failed", [S, K], "skip"],
  ["one_done", [F, R], "run"],
  ["one_done", [S, R], "run"],
  ["one_done", [K, R], "wait"],
  ["one_done", [K, U], "skip"],
  ["none_failed", [S, K], "run"],
  ["none_failed", [S, R], "wait"],
  ["none_failed", [S, U], "upstream_failed"],
  ["none_skipped", [S, F], "run"],
  ["none_skipped", [S, K], "skip"],
  ["none_skipped", [S, R], "wait"],
  ["none_failed_min_one_success", [S, K], "run"],
  ["none_failed_min_one_success", [K, K], "skip"],
  ["none_failed_min_one_success", [S, F], "upstream_failed"],
  ["none_failed_min_one_success", [S, R], "wait"],
  ["always", [R, F], "run"],
];

describe("evaluateTriggerRule", () => {
  it.each(table)("%s with upstreams %j decides %s", (rule, upstream, expected) => {
    expect(evaluateTriggerRule(rule, upstream)).toBe(expected);
  });

  it("runs a task without upstreams whatever its rule", () => {
    expect(evaluateTriggerRule("all_failed", [])).toBe("run");
  });
});

describe("finishedRunState", () => {
  it("fails the run when a leaf failed or had an upstream fail, and succeeds when leaves succeeded or were skipped", () => {
    expect(finishedRunState([S, K])).toBe("success");
    expect(finishedRunState([S, F])).toBe("failed");
    expect(finishedRunState([U])).toBe("failed");
  });
});
