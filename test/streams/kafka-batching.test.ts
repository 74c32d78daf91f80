/**
 * What a crafted Kafka message cannot do to a trigger, without a broker: a timestamp no date can
 * hold gives timestamp null instead of an error that stops the trigger for good; run keys of the
 * same topic through two connections or groups differ, and the stored-offset lookup on SQLite and
 * PostgreSQL reads '_' in a topic as '_' (not LIKE's any-character); oversize messages and batches
 * are cut by the byte caps.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Store, type NewRun } from "../../src/store/index.js";
import { cutBatches, decodeMessage, highestStoredOffset, isoTimestamp, kafkaRunKey, kafkaRunKeyPrefix, lastOffsetOfRunKey, topicIdOf } from "../../src/streams/index.js";
import { createTestDatabase } from "../support/postgres.js";
import { tempDir } from "../support/platform-harness.js";

type Decodable = Parameters<typeof decodeMessage>[0];

function message(over: { offset?: bigint; timestamp?: bigint; value?: string; key?: string }): Decodable {
  return {
    topic: "t",
    partition: 0,
    offset: over.offset ?? 0n,
    timestamp: over.timestamp ?? 1_700_000_000_000n,
    key: over.key === undefined ? undefined : Buffer.from(over.key),
    value: over.value === undefined ? undefined : Buffer.from(over.value),
    headers: new Map<Buffer, Buffer>(),
    metadata: {},
    commit: () => undefined,
  } as unknown as Decodable;
}

describe("message timestamps", () => {
  it("gives timestamp null for a timestamp out of a date's range instead of throwing", () => {
    for (const timestamp of [9_000_000_000_000_000n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      const decoded = decodeMessage(message({ timestamp, value: "{}" }), "json");
      expect(decoded).toMatchObject({ timestamp: null, value: {} });
    }
    expect(isoTimestamp(0n)).toBe("1970-01-01T00:00:00.000Z");
    expect(decodeMessage(message({ value: "1" }), "json")).toMatchObject({ timestamp: new Date(1_700_000_000_000).toISOString() });
  });
});

describe("run keys", () => {
  it("tell apart the same topic through two connections or two groups", () => {
    const a = kafkaRunKey({ connection: "east", group: "g", topic: "clicks" }, 0, 0n, 9n);
    const b = kafkaRunKey({ connection: "west", group: "g", topic: "clicks" }, 0, 0n, 9n);
    const c = kafkaRunKey({ connection: "east", group: "h", topic: "clicks" }, 0, 0n, 9n);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(a).toBe("kafka:east:g:clicks:0:0-9");
    expect(lastOffsetOfRunKey(a, kafkaRunKeyPrefix({ connection: "east", group: "g", topic: "clicks" }, 0))).toBe(9n);
    expect(lastOffsetOfRunKey(b, kafkaRunKeyPrefix({ connection: "east", group: "g", topic: "clicks" }, 0))).toBeUndefined();
    // A key of the old format or anything else after the prefix is not read as an offset.
    expect(lastOffsetOfRunKey("kafka:clicks:0:0-9", kafkaRunKeyPrefix({ connection: "east", group: "g", topic: "clicks" }, 0))).toBeUndefined();
    expect(lastOffsetOfRunKey("kafka:e:g:t:0:1-2-3", "kafka:e:g:t:0:")).toBeUndefined();
    // Keys carry the topic's id: a key of an earlier topic of the same name is not this topic's.
    expect(kafkaRunKey({ connection: "east", group: "g", topic: "clicks" }, 0, 0n, 9n, "Qm9xZXMtYXJlLWZ1bg")).toBe("kafka:east:g:clicks:0:0-9@Qm9xZXMtYXJlLWZ1bg");
    expect(lastOffsetOfRunKey("kafka:e:g:t:0:0-9@old-id", "kafka:e:g:t:0:", "new-id")).toBeUndefined();
    expect(lastOffsetOfRunKey("kafka:e:g:t:0:0-9@new-id", "kafka:e:g:t:0:", "new-id")).toBe(9n);
    expect(lastOffsetOfRunKey("kafka:e:g:t:0:0-9", "kafka:e:g:t:0:", "new-id")).toBe(9n);
    expect(lastOffsetOfRunKey("kafka:e:g:t:0:0-9@bad id", "kafka:e:g:t:0:", "new-id")).toBeUndefined();
    expect(topicIdOf({ topics: new Map([["t", { id: "AAAAAAAAAAAAAAAAAAAAAA" }]]) }, "t")).toBeUndefined();
    expect(topicIdOf({ topics: new Map([["t", { id: "00000000-0000-0000-0000-000000000000" }]]) }, "t")).toBeUndefined();
    expect(topicIdOf({ topics: new Map([["t", { id: "x7Qm-9oxZXMtYXJlLWZ1bg" }]]) }, "t")).toBe("x7Qm-9oxZXMtYXJlLWZ1bg");
    expect(topicIdOf({ topics: new Map([["t", { id: "../x" }]]) }, "t")).toBeUndefined();
  });

  const backends = [
    { name: "sqlite", url: () => Promise.resolve(join(tempDir(), "capstan.db")) },
    { name: "postgres", url: createTestDatabase },
  ];
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it.each(backends)("are looked up by plain prefix on $name: my_topic does not take my.topic's offsets", async ({ url }) => {
    store = await Store.open({ url: await url() });
    await store.migrate();
    const run = (id: string, runKey: string): NewRun => ({
      id,
      pipelineId: "p",
      version: "v1",
      runKey,
      trigger: "kafka",
      state: "queued",
      logicalDate: 1,
      dataIntervalStart: 0,
      dataIntervalEnd: 1,
      params: {},
      note: null,
      createdBy: null,
      createdAt: 1,
      startedAt: null,
      endedAt: null,
    });
    const dotted = { connection: "events", group: "g", topic: "my.topic" };
    const underscored = { connection: "events", group: "g", topic: "my_topic" };
    const otherCluster = { connection: "events-b", group: "g", topic: "my_topic" };
    const s = store;
    await s.transaction((tx) => tx.runs.insert(run("r1", kafkaRunKey(dotted, 0, 0n, 500n)), []));
    await s.transaction((tx) => tx.runs.insert(run("r2", kafkaRunKey(otherCluster, 0, 0n, 700n)), []));
    await s.transaction((tx) => tx.runs.insert(run("r3", kafkaRunKey(underscored, 0, 0n, 4n)), []));
    await s.transaction((tx) => tx.runs.insert(run("r4", "kafka:my_topic:0:0-900"), []));
    expect(await highestStoredOffset(s, "p", kafkaRunKeyPrefix(underscored, 0))).toBe(4n);
    expect(await highestStoredOffset(s, "p", kafkaRunKeyPrefix(dotted, 0))).toBe(500n);
    expect(await highestStoredOffset(s, "p", kafkaRunKeyPrefix(otherCluster, 0))).toBe(700n);
    expect(await highestStoredOffset(s, "p", kafkaRunKeyPrefix(underscored, 1))).toBe(-1n);
    expect(await highestStoredOffset(s, "p", "kafka:%")).toBe(-1n);
  });
});

describe("byte caps", () => {
  const limits = { maxMessageBytes: 100, maxBatchBytes: 250 };
  it("cuts a batch when its bytes reach the cap, and counts nothing for an oversize message", () => {
    const small = Array.from({ length: 6 }, (_, i) => message({ offset: BigInt(i), value: "x".repeat(90) }));
    expect(cutBatches(small, 100, limits).map((b) => b.length)).toEqual([2, 2, 2]);
    const huge = message({ offset: 9n, value: "y".repeat(10_000) });
    const mixed = [small[0]!, huge, small[1]!];
    expect(cutBatches(mixed, 100, limits).map((b) => b.length)).toEqual([3]);
    expect(cutBatches(small, 4, { maxMessageBytes: 100, maxBatchBytes: 1_000_000 }).map((b) => b.length)).toEqual([4, 2]);
  });
});
