import { describe, expect, it } from "vitest";
import { redactRunViews, redactTaskFields, redactValues } from "./redact-values.js";

const redact = (text: string) => Promise.resolve(text.split("hunter2").join("***"));

describe("redactValues", () => {
  it("masks every string inside nested values and keeps their shape", async () => {
    const values = [{ a: "pw hunter2", b: [1, "hunter2", { c: "ok" }], d: null }, "hunter2hunter2", 3];
    expect(await redactValues(values, redact)).toEqual([{ a: "pw ***", b: [1, "***", { c: "ok" }], d: null }, "******", 3]);
  });

  it("masks a task's reason and outputs, and every task of run views", async () => {
    const [task] = await redactTaskFields([{ state: "failed", reason: "bad hunter2", outputs: { token: "hunter2" } }], redact);
    expect(task).toEqual({ state: "failed", reason: "bad ***", outputs: { token: "***" } });
    const [run] = await redactRunViews([{ id: "r", tasks: { t: { state: "success", reason: null, outputs: { x: "hunter2" } } } }], redact);
    expect(run?.tasks.t?.outputs).toEqual({ x: "***" });
  });
});
