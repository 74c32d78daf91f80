import { describe, expect, it } from "vitest";
import { isValidLabelKey, isValidLabelValue, labelValue, podName } from "./names.js";

describe("pod names", () => {
  it("are the same for the same attempt and differ by run, task and try", () => {
    const a = { pipelineId: "etl", runId: "etl-20260101T000000-ab12", taskId: "load", tryNumber: 1 };
    expect(podName(a)).toBe(podName({ ...a }));
    expect(podName(a)).toMatch(/^etl-load-[0-9a-f]{10}$/);
    expect(new Set([podName(a), podName({ ...a, tryNumber: 2 }), podName({ ...a, runId: "etl-2" }), podName({ ...a, taskId: "load2" })]).size).toBe(4);
  });

  it("are DNS labels of at most 63 characters, whatever the ids", () => {
    for (const pipelineId of ["Similar_Users.v2", "x".repeat(80), "__", "A.B-C"]) {
      const name = podName({ pipelineId, runId: "r", taskId: "Train_Model", tryNumber: 3 });
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });
});

describe("label values", () => {
  it("keep valid values and cut or clean the others, staying distinct", () => {
    expect(labelValue("etl-20260101T000000-ab12")).toBe("etl-20260101T000000-ab12");
    const long = labelValue("r".repeat(100));
    expect(isValidLabelValue(long)).toBe(true);
    expect(long).not.toBe(labelValue(`${"r".repeat(99)}s`));
    expect(isValidLabelValue(labelValue("manual__2026-01-01T00:00:00+00:00"))).toBe(true);
  });

  it("check label keys with and without a prefix", () => {
    expect(isValidLabelKey("app")).toBe(true);
    expect(isValidLabelKey("capstan.dev/run")).toBe(true);
    expect(isValidLabelKey("Bad Prefix/x")).toBe(false);
    expect(isValidLabelKey("-x")).toBe(false);
  });
});
