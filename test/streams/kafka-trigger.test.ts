/**
 * Kafka-triggered runs against a real broker: batches become runs whose params carry the messages,
 * keyed by (connection, group, topic, partition, offset range); offsets are committed after the runs are stored and
 * end at the topic's end; a platform opened again on the same home reads on from the committed
 * offset and makes no run twice; pausing the pipeline pauses consumption; a message that is not
 * JSON is named by partition and offset and the consumer keeps going; lag is in /metrics;
 * oversize messages are listed as rejected and batches are cut at the byte cap; a filter keeps the
 * messages it is true for and commits past those it is not. (A timestamp no
 * date can hold is in kafka-batching.test.ts: this broker refuses far-future timestamps, older
 * brokers and other settings do not.)
 */
import { Producer, stringSerializers } from "@platformatic/kafka";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionService } from "../../src/connections/index.js";
import { loadYamlPipeline } from "../../src/pipelines/index.js";
import { batchFileNames, batchRunId, KafkaTrigger, KafkaTriggers } from "../../src/streams/index.js";
import { loadConfig } from "../../src/config/index.js";
import { HOME_VIEWER, pipelineTriggers, platformContext } from "../../src/operations/index.js";
import { Platform } from "../../src/wiring/index.js";
import { eventually as until } from "../support/eventually.js";
import { startKafkaTestenv, type KafkaTestenv } from "../support/kafka-testenv.js";
import { openHarness, type Harness } from "../support/platform-harness.js";

const PIPELINE = `id: on-events
team: team-a
triggers:
  - kafka: { connection: events, topic: clicks, group: capstan-clicks, batch: { max_messages: 100, max_wait: 200ms } }
tasks:
  take: { command: "true" }
`;

let kafka: KafkaTestenv;
let h: Harness;

interface KafkaParams {
  kafka: { topic: string; partition: number; first_offset: string; last_offset: string; messages: { offset: string; partition: number; value: unknown; key: string | null }[]; rejected?: { partition: number; offset: string; reason: string }[] };
}

async function runsOf(platform: Platform): Promise<{ runKey: string; trigger: string; params: KafkaParams }[]> {
  const rows = await platform.store.db.selectFrom("runs").select(["runKey", "trigger", "params"]).where("pipelineId", "=", "on-events").execute();
  return rows.map((r) => ({ runKey: r.runKey, trigger: r.trigger, params: (typeof r.params === "string" ? JSON.parse(r.params) : r.params) as KafkaParams }));
}

async function produce(values: string[], partitions = 2): Promise<void> {
  const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
  await producer.send({ messages: values.map((value, i) => ({ topic: "clicks", key: `k${i}`, value, partition: i % partitions })) });
  await producer.close();
}

/** A topic id in a run key (Kafka's ids are 22 url-safe base64 characters; any id a key may hold). */
const TOPIC_ID = "[A-Za-z0-9_-]{1,64}";

/** Every value seen across the runs, with how often. */
function seenValues(runs: { params: KafkaParams }[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const run of runs) for (const m of run.params.kafka.messages) seen.set(JSON.stringify(m.value), (seen.get(JSON.stringify(m.value)) ?? 0) + 1);
  return seen;
}

beforeAll(async () => {
  kafka = await startKafkaTestenv();
  await kafka.createTopic("clicks", 2);
  h = await openHarness({ pipelines: { "on-events.yaml": PIPELINE }, start: false });
  await new ConnectionService(h.platform.store, h.platform.secrets).set("team-a", "events", { kind: "kafka", settings: { bootstrap_servers: [kafka.bootstrap] } });
  await h.platform.start();
}, 120_000);

afterAll(async () => {
  await h?.close().catch(() => undefined);
  await kafka?.close();
});

describe("Kafka-triggered runs", () => {
  it("makes each batch one run keyed by topic, partition and offset range, and commits after", async () => {
    await produce(Array.from({ length: 250 }, (_, i) => JSON.stringify({ n: i })));
    const runs = await until("250 messages in runs", async () => {
      const all = await runsOf(h.platform);
      return [...seenValues(all).keys()].length >= 250 ? all : undefined;
    });
    expect(runs.every((r) => r.trigger === "kafka")).toBe(true);
    expect(runs.every((r) => r.params.kafka.messages.length <= 100)).toBe(true);
    for (const run of runs) {
      const { partition, first_offset, last_offset } = run.params.kafka;
      expect(run.runKey).toMatch(new RegExp(`^kafka:events:capstan-clicks:clicks:${partition}:${first_offset}-${last_offset}@${TOPIC_ID}$`));
    }
    const seen = seenValues(runs);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(seen.size).toBe(250);
    const lag = await until("lag of 0 in /metrics", async () => {
      const text = await h.platform.metrics.registry.metrics();
      const lines = text.split("\n").filter((l) => l.startsWith("capstan_kafka_consumer_lag{"));
      return lines.length === 2 && lines.every((l) => l.endsWith(" 0")) ? lines : undefined;
    });
    expect(lag[0]).toContain('pipeline="on-events"');
    // What the pipeline page shows: the state since when, and per partition the committed offset, end offset and lag.
    const view = await pipelineTriggers(platformContext(h.platform), HOME_VIEWER, "on-events");
    expect(view.triggers).toEqual([
      {
        index: 0,
        connection: "events",
        topic: "clicks",
        group: "capstan-clicks",
        filter: null,
        state: "consuming",
        error: null,
        since: expect.stringMatching(/^20[0-9-]+T/) as string,
        runs_created: runs.length,
        filtered_out: 0,
        partitions: [
          { partition: 0, committed: "125", end: "125", lag: "0" },
          { partition: 1, committed: "125", end: "125", lag: "0" },
        ],
      },
    ]);
  }, 60_000);

  it("names a message that is not JSON by partition and offset and goes on", async () => {
    await produce(["not json", JSON.stringify({ n: "after" })], 1);
    const runs = await until("the message after the bad one", async () => {
      const all = await runsOf(h.platform);
      return seenValues(all).has(JSON.stringify({ n: "after" })) ? all : undefined;
    });
    const rejected = runs.flatMap((r) => r.params.kafka.rejected ?? []);
    expect(rejected).toEqual([{ partition: 0, offset: expect.any(String) as string, reason: expect.stringMatching(/^partition 0 offset [0-9]+: the value is not JSON/) as string }]);
  }, 30_000);

  it("rejects oversize messages by partition and offset and cuts batches at the byte cap", async () => {
    await kafka.createTopic("sizes", 1);
    const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
    await producer.send({
      messages: [
        ...Array.from({ length: 5 }, (_, i) => ({ topic: "sizes", value: JSON.stringify({ n: i, pad: "x".repeat(880) }) })),
        { topic: "sizes", value: JSON.stringify({ n: "huge", pad: "y".repeat(5_000) }) },
        { topic: "sizes", value: JSON.stringify({ n: "last" }) },
      ],
    });
    await producer.close();
    const runs: { runKey: string; params: KafkaParams }[] = [];
    const spec = { kind: "kafka" as const, connection: "events", topic: "sizes", group: "g-sizes", format: "json" as const, maxMessages: 1_000, maxWaitMs: 300 };
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const createRun = (_pipelineId: string, runKey: string, params: Record<string, unknown>) => {
      runs.push({ runKey, params: params as unknown as KafkaParams });
      return Promise.resolve();
    };
    const trigger = new KafkaTrigger("sizes", spec, { store: h.platform.store, createRun, log, artifactsDir: (runId: string) => join(h.home, "artifacts", runId) }, { maxMessageBytes: 1_000, maxBatchBytes: 3_000 });
    await trigger.start(await new ConnectionService(h.platform.store, h.platform.secrets).resolve("team-a", "events"));
    try {
      await until("the last message", () => Promise.resolve(seenValues(runs).has(JSON.stringify({ n: "last" })) ? true : undefined));
      expect(trigger.state).toBe("consuming");
      const rejected = runs.flatMap((r) => r.params.kafka.rejected ?? []);
      expect(rejected).toEqual([{ partition: 0, offset: "5", reason: expect.stringMatching(/^partition 0 offset 5: the message is [0-9]+ bytes, over the limit of 1000 bytes per message$/) as string }]);
      expect(seenValues(runs).size).toBe(6);
      for (const run of runs) expect(JSON.stringify(run.params.kafka.messages).length).toBeLessThan(3_000 + 1_000);
      expect(runs.length).toBeGreaterThanOrEqual(2);
      expect(runs.every((r) => r.runKey.startsWith("kafka:events:g-sizes:sizes:0:"))).toBe(true);
    } finally {
      await trigger.stop();
    }
  }, 30_000);

  it("keeps only the messages its filter is true for, rejects those it fails on, and commits past batches it keeps nothing of", async () => {
    await kafka.createTopic("filtered", 1);
    const send = async (values: unknown[]): Promise<void> => {
      const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
      await producer.send({ messages: values.map((value) => ({ topic: "filtered", value: JSON.stringify(value), headers: { source: "web" } })) });
      await producer.close();
    };
    const runs: { runKey: string; params: KafkaParams }[] = [];
    const spec = { kind: "kafka" as const, connection: "events", topic: "filtered", group: "g-filtered", format: "json" as const, maxMessages: 1_000, maxWaitMs: 300, filter: 'value.type == "click" && headers.source == "web"' };
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const createRun = (_pipelineId: string, runKey: string, params: Record<string, unknown>) => {
      runs.push({ runKey, params: params as unknown as KafkaParams });
      return Promise.resolve();
    };
    const trigger = new KafkaTrigger("filtered", spec, { store: h.platform.store, createRun, log, artifactsDir: (runId: string) => join(h.home, "artifacts", runId) });
    await trigger.start(await new ConnectionService(h.platform.store, h.platform.secrets).resolve("team-a", "events"));
    try {
      await send([{ type: "view" }, { type: "click", n: 1 }, { nope: 1 }, { type: "view" }, { type: "click", n: 2 }]);
      await until("the clicks in a run", () => Promise.resolve(seenValues(runs).has(JSON.stringify({ type: "click", n: 2 })) ? true : undefined));
      expect(runs.flatMap((r) => r.params.kafka.messages.map((m) => m.value))).toEqual([{ type: "click", n: 1 }, { type: "click", n: 2 }]);
      expect(runs.flatMap((r) => r.params.kafka.rejected ?? [])).toEqual([{ partition: 0, offset: "2", reason: expect.stringMatching(/^partition 0 offset 2: the filter failed: No such key: type/) as string }]);
      expect(runs[0]?.runKey).toMatch(new RegExp(`^kafka:events:g-filtered:filtered:0:0-4@${TOPIC_ID}$`));
      // A batch of views only: no run, and the group's offset still moves to the end.
      await send([{ type: "view" }, { type: "view" }]);
      await until("the views committed", async () => ((await trigger.lag())?.get(0) === 0n && trigger.filteredOut === 4 ? true : undefined));
      expect(runs).toHaveLength(1);
      expect(trigger.state).toBe("consuming");
    } finally {
      await trigger.stop();
    }
  }, 30_000);

  it("shows a trigger whose topic was deleted as failed in the log and the UI, and consumes again when the topic is created again", async () => {
    await kafka.createTopic("doomed", 1);
    const text = `id: doomed\nteam: team-a\ntriggers:\n  - kafka: { connection: events, topic: doomed, group: g-doomed, batch: { max_wait: 100ms } }\ntasks:\n  t: { command: "true" }\n`;
    const pipeline = { spec: loadYamlPipeline("doomed.yaml", text), version: "v", file: "/pipelines/doomed.yaml", baseDir: "/pipelines", source: text };
    const runs: { runKey: string; params: KafkaParams }[] = [];
    const errors: string[] = [];
    const triggers = new KafkaTriggers({
      store: h.platform.store,
      secrets: h.platform.secrets,
      pipelines: { list: () => [pipeline] },
      // Runs are stored as the platform stores them, so the offsets already in runs are read back.
      createRun: async (pipelineId, runKey, params) => {
        runs.push({ runKey, params: params as unknown as KafkaParams });
        await h.platform.store.transaction((tx) =>
          tx.runs.insert(
            { id: `doomed-${runs.length}`, pipelineId, version: "v", runKey, trigger: "kafka", state: "success", logicalDate: 1, dataIntervalStart: 0, dataIntervalEnd: 1, params, note: null, createdBy: null, createdAt: 1, startedAt: null, endedAt: null },
            [],
          ),
        );
      },
      artifactsDir: (runId) => join(h.home, "artifacts", runId),
      log: { info: () => undefined, warn: () => undefined, error: (_fields, message) => void errors.push(message) },
      intervalMs: 200,
      retryMs: 500,
    });
    triggers.start();
    const send = async (values: string[]): Promise<void> => {
      const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
      await producer.send({ messages: values.map((n) => ({ topic: "doomed", value: JSON.stringify({ n }) })) });
      await producer.close();
    };
    try {
      await until("the trigger to consume", async () => ((await triggers.describe(pipeline))[0]?.state === "consuming" ? true : undefined));
      await send(["before"]);
      await until("the message before the deletion", () => Promise.resolve(seenValues(runs).has(JSON.stringify({ n: "before" })) ? true : undefined));
      await kafka.deleteTopic("doomed");
      const failed = await until("the trigger to fail", async () => {
        const view = (await triggers.describe(pipeline))[0];
        return view?.state === "failed" ? view : undefined;
      });
      // The client's "fetch failed 4 times" is followed by the broker's reason.
      expect(failed.error).toMatch(/^\/pipelines\/doomed\.yaml: triggers\[0\]\.kafka: .*(topic|partition)/);
      expect(errors.some((e) => e.includes("doomed"))).toBe(true);
      await kafka.createTopic("doomed", 1);
      // Offsets start at 0 again in the new topic, where the stored run of the old one ended: the
      // run keys' topic ids keep the new topic's first messages from being taken as already stored.
      await send(["a0", "a1", "a2"]);
      await until("the messages after the topic came back", () => Promise.resolve(seenValues(runs).has(JSON.stringify({ n: "a2" })) ? true : undefined), 30_000);
      expect([...seenValues(runs).entries()].sort()).toEqual([...["a0", "a1", "a2", "before"].map((n) => [JSON.stringify({ n }), 1] as const)].sort());
      const keys = runs.map((r) => r.runKey);
      expect(new Set(keys.map((k) => k.split("@")[1])).size).toBe(2);
      expect((await triggers.describe(pipeline))[0]?.state).toBe("consuming");
    } finally {
      await triggers.close();
    }
  }, 60_000);

  it("names an unknown connection by file and field, and starts, restarts or stops a trigger at once when its connection is set, changed or deleted", async () => {
    const text = `id: later\nteam: team-a\ntriggers:\n  - kafka: { connection: later, topic: clicks, group: g-later }\ntasks:\n  t: { command: "true" }\n`;
    const pipeline = { spec: loadYamlPipeline("later.yaml", text), version: "v", file: "/pipelines/later.yaml", baseDir: "/pipelines", source: text };
    const triggers = new KafkaTriggers({
      store: h.platform.store,
      secrets: h.platform.secrets,
      pipelines: { list: () => [pipeline] },
      createRun: () => Promise.resolve(),
      artifactsDir: (runId) => join(h.home, "artifacts", runId),
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      intervalMs: 200,
      // Far longer than the test: only the connection's edit can start the trigger again.
      retryMs: 600_000,
    });
    const connections = new ConnectionService(h.platform.store, h.platform.secrets);
    const stateOf = async () => (await triggers.describe(pipeline))[0];
    triggers.start();
    try {
      const missing = await until("the trigger to fail", async () => ((await stateOf())?.state === "failed" ? await stateOf() : undefined));
      expect(missing?.error).toMatch(/^\/pipelines\/later\.yaml: triggers\[0\]\.kafka\.connection: .*later/);
      await connections.set("team-a", "later", { kind: "kafka", settings: { bootstrap_servers: [kafka.bootstrap] } });
      await until("the trigger to consume once its connection exists", async () => ((await stateOf())?.state === "consuming" ? true : undefined), 10_000);
      await connections.set("team-a", "later", { kind: "kafka", settings: { bootstrap_servers: ["127.0.0.1:1"] } });
      await until("the trigger to restart with the changed connection and fail", async () => ((await stateOf())?.state === "failed" ? true : undefined), 30_000);
      await connections.delete("team-a", "later");
      const deleted = await until("the trigger to name the deleted connection", async () => {
        const view = await stateOf();
        return view?.state === "failed" && /kafka\.connection: /.test(view.error ?? "") ? view : undefined;
      }, 10_000);
      expect(deleted.error).toMatch(/later/);
    } finally {
      await triggers.close();
    }
  }, 60_000);

  it("pauses consumption with the pipeline and resumes where it stopped", async () => {
    await h.platform.store.pipelines.setPaused("on-events", true, Date.now());
    await until("the trigger to pause", () => Promise.resolve(h.platform.streams?.status()[0] === undefined ? true : undefined), 10_000);
    expect((await pipelineTriggers(platformContext(h.platform), HOME_VIEWER, "on-events")).triggers[0]).toMatchObject({ state: "paused", partitions: [] });
    const before = (await runsOf(h.platform)).length;
    await produce([JSON.stringify({ n: "paused" })], 1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await runsOf(h.platform)).length).toBe(before);
    await h.platform.store.pipelines.setPaused("on-events", false, Date.now());
    await until("the paused message in a run", async () => (seenValues(await runsOf(h.platform)).has(JSON.stringify({ n: "paused" })) ? true : undefined));
  }, 30_000);

  it("reads on from the committed offset after the platform is opened again, making no run twice", async () => {
    await h.platform.close();
    await produce(Array.from({ length: 30 }, (_, i) => JSON.stringify({ n: `again-${i}` })));
    const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
    const platform = await Platform.open({ config });
    await platform.start();
    try {
      const runs = await until("the 30 new messages", async () => {
        const all = await runsOf(platform);
        return Array.from({ length: 30 }, (_, i) => JSON.stringify({ n: `again-${i}` })).every((v) => seenValues(all).has(v)) ? all : undefined;
      });
      const seen = seenValues(runs);
      expect([...seen.entries()].filter(([, count]) => count !== 1)).toEqual([]);
      expect(new Set(runs.map((r) => r.runKey)).size).toBe(runs.length);
    } finally {
      await platform.close();
    }
  }, 60_000);

  it("resumes when the broker comes back after it was stopped mid-stream", async () => {
    const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
    const platform = await Platform.open({ config });
    await platform.start();
    try {
      await produce([JSON.stringify({ n: "before-stop" })], 1);
      await until("the message before the stop", async () => (seenValues(await runsOf(platform)).has(JSON.stringify({ n: "before-stop" })) ? true : undefined));
      await kafka.stop({ hard: true });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await kafka.start();
      await produce(Array.from({ length: 20 }, (_, i) => JSON.stringify({ n: `after-restart-${i}` })));
      const runs = await until(
        "the messages produced after the broker restarted",
        async () => {
          const all = await runsOf(platform);
          return Array.from({ length: 20 }, (_, i) => JSON.stringify({ n: `after-restart-${i}` })).every((v) => seenValues(all).has(v)) ? all : undefined;
        },
        90_000,
      );
      expect([...seenValues(runs).entries()].filter(([, count]) => count !== 1)).toEqual([]);
    } finally {
      await platform.close();
    }
  }, 150_000);

  it("shows a trigger whose credentials are refused as failed, naming the file and field", async () => {
    const wrong = `id: wrong-password
team: team-a
triggers:
  - kafka: { connection: events-sasl, topic: clicks, group: g-wrong }
tasks:
  take: { command: "true" }
`;
    h.writePipeline("wrong-password.yaml", wrong);
    const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
    const platform = await Platform.open({ config });
    await platform.secrets.set("team-a", "kafka", { password: "not-the-password" });
    await new ConnectionService(platform.store, platform.secrets).set("team-a", "events-sasl", {
      kind: "kafka",
      settings: { bootstrap_servers: [kafka.saslBootstrap], sasl_mechanism: "PLAIN", sasl_username: kafka.saslUsername },
      secrets: { sasl_password: "kafka/password" },
    });
    await platform.start();
    try {
      const failed = await until("the trigger to fail", () => Promise.resolve(platform.streams?.status().find((t) => t.pipeline === "wrong-password" && t.state === "failed")), 30_000);
      expect(failed.error).toMatch(/wrong-password\.yaml: triggers\[0\]\.kafka: /);
      expect(failed.error).not.toContain("not-the-password");
    } finally {
      await platform.close();
    }
  }, 60_000);

  it("writes a batch of over 1,000 messages as JSON lines into the run's artifacts folder, which its task reads through params.kafka.messages_file", async () => {
    await kafka.createTopic("bulk", 1);
    h.writePipeline(
      "bulk.yaml",
      `id: bulk
team: team-a
triggers:
  - kafka: { connection: events, topic: bulk, group: g-bulk, batch: { max_messages: 5000, max_wait: 1s } }
tasks:
  count: { command: 'test "$(wc -l < "{{ params.kafka.messages_file }}")" -eq 1500' }
`,
    );
    const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
    const platform = await Platform.open({ config });
    await platform.start();
    try {
      const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
      await producer.send({ messages: Array.from({ length: 1_500 }, (_, i) => ({ topic: "bulk", key: `k${i}`, value: JSON.stringify({ n: i }) })) });
      await producer.close();
      const run = await until("the bulk run to end", async () => {
        const row = await platform.store.db.selectFrom("runs").select(["id", "runKey", "state", "params"]).where("pipelineId", "=", "bulk").executeTakeFirst();
        return row && (row.state === "success" || row.state === "failed") ? row : undefined;
      }, 60_000);
      const params = (typeof run.params === "string" ? JSON.parse(run.params) : run.params) as { kafka: Record<string, unknown> };
      expect(run.runKey).toMatch(new RegExp(`^kafka:events:g-bulk:bulk:0:0-1499@${TOPIC_ID}$`));
      expect(run.id).toBe(batchRunId("bulk", run.runKey));
      expect(params.kafka).toEqual({
        topic: "bulk",
        partition: 0,
        first_offset: "0",
        last_offset: "1499",
        count: 1500,
        messages_file: join(h.home, "artifacts", run.id, batchFileNames(run.runKey).messages),
      });
      const lines = readFileSync(params.kafka.messages_file as string, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as { offset: string; key: string; value: unknown });
      expect(lines).toHaveLength(1500);
      expect(lines[1499]).toMatchObject({ offset: "1499", key: "k1499", value: { n: 1499 } });
      expect(run.state, readFileSync(join(h.home, "logs", run.id, "count", "1.log"), "utf8")).toBe("success");
    } finally {
      await platform.close();
    }
  }, 90_000);
});
