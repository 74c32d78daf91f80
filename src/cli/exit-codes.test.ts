/** Exit codes come from the error's kind; notebook runs keep papermill's codes. */
import { describe, expect, it } from "vitest";
import { AuthenticationError, TooManyAttemptsError } from "../auth/index.js";
import { CellExecutionError, KernelDiedError } from "../notebooks/index.js";
import { ParamError, PipelineFileError } from "../pipelines/index.js";
import { SchedulerRunningError } from "../wiring/scheduler-lock.js";
import { ConflictError, NotFoundError } from "../scheduler/index.js";
import { exitCodeOf } from "./exit-codes.js";

describe("exitCodeOf", () => {
  it("maps kinds: bad requests 2, a home in use 3, anything else 1", () => {
    expect(exitCodeOf(new ParamError("rate", "param rate: not a number"))).toBe(2);
    expect(exitCodeOf(new PipelineFileError("p.yaml", [{ path: ["id"], message: "required" }]))).toBe(2);
    expect(exitCodeOf(new NotFoundError("no run r1"))).toBe(2);
    expect(exitCodeOf(new ConflictError("run r1 is queued"))).toBe(2);
    expect(exitCodeOf(new AuthenticationError("sign in first"))).toBe(2);
    expect(exitCodeOf(new TooManyAttemptsError("wait", 30))).toBe(2);
    expect(exitCodeOf(new SchedulerRunningError({ pid: 1, pidStart: null, url: null, startedAt: 0, mode: "up" }, "/home"))).toBe(3);
    expect(exitCodeOf(new Error("unexpected"))).toBe(1);
    expect(exitCodeOf("a string")).toBe(1);
  });

  it("keeps papermill's codes for notebook runs", () => {
    expect(exitCodeOf(new KernelDiedError("the kernel died"))).toBe(138);
    expect(exitCodeOf(new CellExecutionError({ cellIndex: 0, executionCount: 1, ename: "ValueError", evalue: "bad", traceback: [] }))).toBe(1);
  });
});
