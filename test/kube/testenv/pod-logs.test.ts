import { describe, expect, it } from "vitest";
import { toCriLog } from "./pod-logs.js";

describe("toCriLog", () => {
  it("writes one full CRI line per line of text, with a nanosecond timestamp", () => {
    const now = new Date("2026-01-02T03:04:05.678Z");
    expect(toCriLog("a\nb\n", now)).toBe(
      "2026-01-02T03:04:05.678000000Z stdout F a\n2026-01-02T03:04:05.678000000Z stdout F b\n",
    );
    expect(toCriLog("last line without newline", now)).toBe(
      "2026-01-02T03:04:05.678000000Z stdout F last line without newline\n",
    );
    expect(toCriLog("", now)).toBe("");
  });
});
