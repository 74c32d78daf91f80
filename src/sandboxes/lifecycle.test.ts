/** The sandbox state machine allows exactly the moves of the lifecycle. */
import { describe, expect, it } from "vitest";
import { canMove } from "./lifecycle.js";

describe("sandbox state machine", () => {
  it("goes stopped → starting → running → stopping → stopped", () => {
    expect(canMove("stopped", "starting")).toBe(true);
    expect(canMove("starting", "running")).toBe(true);
    expect(canMove("running", "stopping")).toBe(true);
    expect(canMove("stopping", "stopped")).toBe(true);
  });

  it("fails from any state that runs something, and starts again from failed", () => {
    for (const from of ["starting", "running", "stopping"] as const) expect(canMove(from, "failed")).toBe(true);
    expect(canMove("failed", "starting")).toBe(true);
  });

  it("never jumps: stopped cannot become running, running cannot become starting", () => {
    expect(canMove("stopped", "running")).toBe(false);
    expect(canMove("running", "starting")).toBe(false);
    expect(canMove("stopped", "failed")).toBe(false);
  });
});
