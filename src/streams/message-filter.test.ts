/** A trigger's filter in its worker: matches, skips, and rejects with a reason what throws, is not a bool, or runs too long. */
import { afterEach, describe, expect, it } from "vitest";
import type { TriggerMessage } from "./kafka-trigger.js";
import { MessageFilter } from "./message-filter.js";

const filters: MessageFilter[] = [];
afterEach(async () => {
  await Promise.all(filters.splice(0).map((f) => f.close()));
});

function filter(source: string, timeoutMs?: number): MessageFilter {
  const made = new MessageFilter(source, timeoutMs);
  filters.push(made);
  return made;
}

function message(offset: number, value: unknown, extra: Partial<TriggerMessage> = {}): TriggerMessage {
  return { partition: 0, offset: String(offset), timestamp: "2026-12-01T10:00:00.000Z", key: `k${offset}`, value, headers: { source: "web" }, ...extra };
}

describe("MessageFilter", () => {
  it("keeps the messages the expression is true for, over key, value, headers, partition, offset and timestamp", async () => {
    const f = filter('value.type == "click" && headers.source == "web" && offset >= 1 && partition == 0 && key.startsWith("k") && timestamp(timestamp) > timestamp("2026-01-01T00:00:00Z")');
    const outcomes = await f.apply([message(0, { type: "click" }), message(1, { type: "click" }), message(2, { type: "view" }), message(3, { type: "click" }, { headers: {} })]);
    expect(outcomes.slice(0, 3)).toEqual([{ match: false }, { match: true }, { match: false }]);
    // A missing key is an error in CEL, so that message is rejected with the reason.
    expect(outcomes[3]).toEqual({ reason: expect.stringMatching(/^the filter failed: .*source/) as string });
  });

  it("rejects a message the expression gives no bool for, or fails on, and goes on with the next", async () => {
    const f = filter("value.flag");
    expect(await f.apply([message(0, { flag: 3 }), message(1, { other: true }), message(2, { flag: true })])).toEqual([
      { reason: "the filter gave double 3, not true or false" },
      { reason: expect.stringMatching(/^the filter failed: No such key: flag/) as string },
      { match: true },
    ]);
  });

  it("stops a message that takes longer than the limit, rejects it, and evaluates the rest in a new worker", async () => {
    const f = filter("value.l.all(a, value.l.all(b, value.l.all(c, a + b + c >= 0)))", 150);
    const big = Array.from({ length: 2_000 }, (_, i) => i);
    const started = Date.now();
    const outcomes = await f.apply([message(0, { l: [1] }), message(1, { l: big }), message(2, { l: [2] }), message(3, { l: big }), message(4, { l: [] })]);
    expect(outcomes).toEqual([
      { match: true },
      { reason: "the filter took longer than 150 ms" },
      { match: true },
      { reason: "the filter took longer than 150 ms" },
      { match: true },
    ]);
    expect(f.restarts).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("stops a message whose evaluation outgrows the worker's memory, and goes on", async () => {
    const f = filter("size(value.l.map(a, value.l.map(b, value.l.map(c, [a, b, c])))) > 0", 60_000);
    const big = Array.from({ length: 400 }, (_, i) => i);
    const outcomes = await f.apply([message(0, { l: big }), message(1, { l: [1] })]);
    expect(outcomes).toEqual([{ reason: "the filter needed more than 256 MiB of memory" }, { match: true }]);
  }, 60_000);
});
