import { describe, expect, it } from "vitest";
import { FakeClock } from "./fake-clock.js";

describe("FakeClock", () => {
  it("fires timers in time order as it advances, and not before", () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push("c"));
    clock.setTimer(100, () => fired.push("a"));
    const cancelled = clock.setTimer(200, () => fired.push("cancelled"));
    clock.setTimer(200, () => fired.push("b"));
    cancelled.clear();
    clock.advance(150);
    expect(fired).toEqual(["a"]);
    clock.advance(1000);
    expect(fired).toEqual(["a", "b", "c"]);
    expect(clock.now()).toBe(1150);
  });

  it("lets a timer set a later timer that fires within the same advance", () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    clock.setTimer(10, () => {
      seen.push(clock.now());
      clock.setTimer(20, () => seen.push(clock.now()));
    });
    clock.advance(50);
    expect(seen).toEqual([10, 20]);
  });
});
