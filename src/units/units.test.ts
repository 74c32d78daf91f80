/** Durations and quantities as pipeline files write them: parsed, formatted, and refused with a hint. */
import { describe, expect, it } from "vitest";
import { cpuField, durationField, formatDuration, formatMemory, memoryField, parseCpu, parseDuration, parseMemory } from "./index.js";

describe("units", () => {
  it("parses durations with units, combined units, and plain numbers of seconds", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration(" 2D ")).toBe(172_800_000);
    expect(parseDuration(1.5)).toBe(1500);
    expect(parseDuration("10 minutes")).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(250)).toBe("250ms");
  });

  it("parses CPU in cores or millicores and memory with binary or decimal suffixes", () => {
    expect(parseCpu("500m")).toBe(0.5);
    expect(parseCpu(2)).toBe(2);
    expect(parseCpu("two")).toBeUndefined();
    expect(parseMemory("4Gi")).toBe(4 * 2 ** 30);
    expect(parseMemory("1G")).toBe(1e9);
    expect(parseMemory("1e3")).toBe(1000);
    expect(parseMemory("4GB")).toBeUndefined();
    expect(formatMemory(1.5 * 2 ** 30)).toBe("1.5Gi");
  });

  it("schema fields refuse what does not parse, quoting it and saying what is accepted", () => {
    expect(durationField.safeParse("1h").success).toBe(true);
    expect(durationField.safeParse("soon").error?.issues[0]?.message).toBe('"soon" is not a duration such as "500ms", "30s", "10m", "1h30m", "2d", or a number of seconds');
    expect(memoryField.safeParse(true).error?.issues[0]?.message).toMatch(/^expected a memory quantity/);
    expect(cpuField.safeParse("1.5x").error?.issues[0]?.message).toMatch(/^"1.5x" is not a CPU quantity/);
  });
});
