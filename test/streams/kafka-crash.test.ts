/**
 * Reliability: 10,000 messages produced while `capstan up` is killed with SIGKILL three times.
 * Every message must be in exactly one run's params, no run key twice, and the consumer group's
 * committed offsets must end at the topic's end.
 */
import { Consumer, Producer, stringSerializers } from "@platformatic/kafka";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { Store } from "../../src/store/index.js";
import { runCli, startUp, type UpProcess } from "../support/cli-process.js";
import { startKafkaTestenv, type KafkaTestenv } from "../support/kafka-testenv.js";
import { tempDir } from "../support/platform-harness.js";

const MESSAGES = 10_000;
const PARTITIONS = 3;
const PIPELINE = `id: visits
triggers:
  - kafka: { connection: events, topic: visits, group: capstan-visits, batch: { max_messages: 500, max_wait: 100ms } }
tasks:
  take: { command: "true" }
`;

let kafka: KafkaTestenv;

beforeAll(async () => {
  kafka = await startKafkaTestenv();
  await kafka.createTopic("visits", PARTITIONS);
}, 120_000);

afterAll(async () => {
  await kafka?.close();
});

async function valuesInRuns(store: Store): Promise<{ counts: Map<string, number>; keys: string[] }> {
  const rows = await store.db.selectFrom("runs").select(["runKey", "params"]).where("pipelineId", "=", "visits").execute();
  const counts = new Map<string, number>();
  for (const row of rows) {
    const params = (typeof row.params === "string" ? JSON.parse(row.params) : row.params) as { kafka: { messages: { value: { n: number } }[] } };
    for (const m of params.kafka.messages) counts.set(String(m.value.n), (counts.get(String(m.value.n)) ?? 0) + 1);
  }
  return { counts, keys: rows.map((r) => r.runKey) };
}

describe("kill -9 of the scheduler while 10,000 messages arrive", () => {
  it("puts every message in exactly one run and commits to the topic's end", { timeout: 240_000 }, async () => {
    const dir = tempDir("capstan-kafka-crash-");
    mkdirSync(join(dir, "pipelines"));
    writeFileSync(join(dir, "pipelines", "visits.yaml"), PIPELINE);
    const env = { CAPSTAN_HOME: join(dir, "home") };
    const global = ["--pipelines", join(dir, "pipelines")];
    const set = await runCli([...global, "connections", "set", "events", "--kind", "kafka", "--setting", `bootstrap_servers=${kafka.bootstrap}`], { cwd: dir, env });
    expect(set.code, set.stderr).toBe(0);
    const store = await Store.open({ url: loadConfig({ home: env.CAPSTAN_HOME, pipelines: [join(dir, "pipelines")] }, {}, dir).databaseUrl });
    let up: UpProcess = await startUp(global, { cwd: dir, env });
    try {
      const producing = (async () => {
        const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
        for (let chunk = 0; chunk < 20; chunk += 1) {
          const messages = Array.from({ length: MESSAGES / 20 }, (_, i) => {
            const n = chunk * (MESSAGES / 20) + i;
            return { topic: "visits", key: `k${n}`, value: JSON.stringify({ n }), partition: n % PARTITIONS };
          });
          await producer.send({ messages });
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
        await producer.close();
      })();
      const started = Date.now();
      for (let kill = 1; kill <= 3; kill += 1) {
        // Each kill comes once the scheduler has stored more runs than before, so it lands mid-stream.
        const before = (await valuesInRuns(store)).keys.length;
        for (let waited = 0; (await valuesInRuns(store)).keys.length <= before && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
        const exited = new Promise((resolve) => up.child.once("exit", resolve));
        up.child.kill("SIGKILL");
        await exited;
        up = await startUp(global, { cwd: dir, env });
      }
      await producing;
      const deadline = Date.now() + 120_000;
      let seen = await valuesInRuns(store);
      while (seen.counts.size < MESSAGES && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        seen = await valuesInRuns(store);
      }
      process.stderr.write(`[kafka-crash.test] ${MESSAGES} messages in ${seen.keys.length} runs after 3 kills, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      expect(seen.counts.size).toBe(MESSAGES);
      expect([...seen.counts.entries()].filter(([, count]) => count !== 1)).toEqual([]);
      expect(new Set(seen.keys).size).toBe(seen.keys.length);

      const consumer = new Consumer({ clientId: "t", groupId: "capstan-visits", bootstrapBrokers: [kafka.bootstrap] });
      try {
        const ends = (await consumer.listOffsets({ topics: ["visits"] })).get("visits") ?? [];
        let committed: bigint[] = [];
        for (let waited = 0; waited < 10_000; waited += 100) {
          committed = (await consumer.listCommittedOffsets({ topics: [{ topic: "visits", partitions: [0, 1, 2] }] })).get("visits") ?? [];
          if (committed.join() === ends.join()) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(ends.map(String)).toEqual(Array.from({ length: PARTITIONS }, (_, p) => String(Math.ceil((MESSAGES - p) / PARTITIONS))));
        expect(committed.map(String)).toEqual(ends.map(String));
      } finally {
        await consumer.close();
      }
    } finally {
      up.child.kill("SIGTERM");
      await store.close();
    }
  });
});
