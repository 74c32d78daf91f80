import { describe, expect, it } from "vitest";
import { ParamError, resolveParams } from "./params.js";
import type { ParamSpec } from "./model.js";

const SPECS: Record<string, ParamSpec> = {
  msg: { type: "string" },
  config: { type: "object", default: {} },
  list: { type: "array", default: [] },
};

function refusal(given: Record<string, unknown>): ParamError {
  try {
    resolveParams(SPECS, given);
  } catch (error) {
    if (error instanceof ParamError) return error;
    throw error;
  }
  throw new Error("expected the params to be refused");
}

describe("params with NUL bytes", () => {
  it("refuses a string param holding U+0000, naming the param and why", () => {
    const error = refusal({ msg: "nul\u0000byte" });
    expect(error.param).toBe("msg");
    expect([error.kind, error.code]).toEqual(["invalid", "invalid_param"]);
    expect(error.message).toBe("param msg: the value contains a NUL byte (U+0000); param values cannot hold NUL, because tasks receive them on command lines and in environment variables");
  });

  it("finds NUL nested in objects and lists, in values and keys", () => {
    expect(refusal({ msg: "ok", config: { a: { b: ["x", "y\u0000"] } } }).message).toMatch(/^param config: the value at a\.b\[1\] contains a NUL byte/);
    expect(refusal({ msg: "ok", list: [{ "k\u0000": 1 }] }).message).toMatch(/^param list: the value at \[0\]\.k\\u0000 contains a NUL byte/);
  });

  it("accepts the same values without NUL", () => {
    expect(resolveParams(SPECS, { msg: "nul byte", config: { a: { b: ["x", "y"] } } })).toEqual({ msg: "nul byte", config: { a: { b: ["x", "y"] } }, list: [] });
  });
});
