import { describe, expect, it } from "vitest";
import { BEHAVIOUR_ANNOTATIONS, OUTCOME_LABEL, podBehaviour } from "./pod-behaviour.js";

describe("podBehaviour", () => {
  it("turns a behaviour into the outcome label and the annotations the stages read", () => {
    expect(podBehaviour({ outcome: "fail", exitCode: 3, message: "boom", runDurationMs: 1500 })).toEqual({
      labels: { [OUTCOME_LABEL]: "fail" },
      annotations: {
        [BEHAVIOUR_ANNOTATIONS.exitCode]: "3",
        [BEHAVIOUR_ANNOTATIONS.message]: "boom",
        [BEHAVIOUR_ANNOTATIONS.runDuration]: "1500ms",
      },
    });
  });

  it("gives no label or annotation for an empty behaviour (the pod completes with exit code 0)", () => {
    expect(podBehaviour({})).toEqual({ labels: {}, annotations: {} });
  });

  it("refuses exit codes outside 0..255 and negative durations", () => {
    expect(() => podBehaviour({ exitCode: 256 })).toThrow(/exitCode 256 is not an integer from 0 to 255/);
    expect(() => podBehaviour({ deleteDelayMs: -1 })).toThrow(/delete-delay -1 is not a duration/);
  });
});
