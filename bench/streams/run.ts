/**
 * Streams benchmark against a real Kafka broker (the test broker, Apache Kafka 4.1.1 in KRaft mode):
 *   (a) messages per second from topic to runs created, with batches of 1, 100 and 10,000 messages
 *       (the clock runs from the first message produced to the last run stored);
 *   (b) end-to-end latency from producing one message to its run's first task starting, p50/p99
 *       over --latency-samples messages sent one at a time (goal: p50 ≤ 100 ms at batch 1).
 * The platform runs in this process on SQLite with the local executor; tasks are `true`.
 *
 *   npx tsx bench/streams/run.ts [--messages 2000] [--latency-samples 50]
 */
import { Producer, stringSerializers } from "@platformatic/kafka";
import { ConnectionService } from "../../src/connections/index.js";
import { startKafkaTestenv } from "../../test/support/kafka-testenv.js";
import { openHarness } from "../../test/support/platform-harness.js";

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} takes a positive number`);
  return value;
}

const messages = flag("--messages", 2000);
const latencySamples = flag("--latency-samples", 50);
const sizes = [1, 100, 10_000];

const pipeline = (id: string, topic: string, batch: number) => `id: ${id}
triggers:
  - kafka: { connection: events, topic: ${topic}, group: bench-${id}, batch: { max_messages: ${batch}, max_wait: 50ms } }
tasks:
  take: { command: "true" }
`;

const kafka = await startKafkaTestenv();
const pipelines: Record<string, string> = { "latency.yaml": pipeline("latency", "latency", 1) };
for (const size of sizes) pipelines[`batch-${size}.yaml`] = pipeline(`batch-${size}`, `batch-${size}`, size);
for (const topic of ["latency", ...sizes.map((s) => `batch-${s}`)]) await kafka.createTopic(topic, 1);
const h = await openHarness({ pipelines, start: false });
await new ConnectionService(h.platform.store, h.platform.secrets).set("default", "events", { kind: "kafka", settings: { bootstrap_servers: [kafka.bootstrap] } });
await h.platform.start();
const producer = new Producer({ clientId: "bench", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });

async function storedMessages(pipelineId: string): Promise<number> {
  const rows = await h.platform.store.db.selectFrom("runs").select(["params"]).where("pipelineId", "=", pipelineId).execute();
  let count = 0;
  for (const row of rows) {
    // A large batch's messages are in a file in the run's artifacts folder; params then carry its count.
    const batch = ((typeof row.params === "string" ? JSON.parse(row.params) : row.params) as { kafka: { messages?: unknown[]; count?: number } }).kafka;
    count += batch.count ?? batch.messages?.length ?? 0;
  }
  return count;
}

try {
  console.log(`streams benchmark: Kafka 4.1.1 on loopback (broker answered ${kafka.startMs} ms after its JVM started), SQLite, local executor`);
  console.log(`(a) topic to runs, ${messages} messages per batch size`);
  for (const size of sizes) {
    const id = `batch-${size}`;
    const started = performance.now();
    for (let sent = 0; sent < messages; sent += 1000) {
      await producer.send({ messages: Array.from({ length: Math.min(1000, messages - sent) }, (_, i) => ({ topic: id, key: String(sent + i), value: JSON.stringify({ n: sent + i }) })) });
    }
    for (;;) {
      if ((await storedMessages(id)) >= messages) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const runs = (await h.platform.store.db.selectFrom("runs").select("id").where("pipelineId", "=", id).execute()).length;
    console.log(`  batch ${String(size).padStart(6)}: ${(messages / seconds).toFixed(0).padStart(7)} messages/s into ${runs} runs (${seconds.toFixed(2)} s)`);
  }

  console.log(`(b) produce to the run's first task starting, batch 1, ${latencySamples} messages one at a time`);
  const latencies: number[] = [];
  for (let i = 0; i < latencySamples; i += 1) {
    const before = await h.platform.store.db.selectFrom("runs").select("id").where("pipelineId", "=", "latency").execute();
    const sentAt = Date.now();
    await producer.send({ messages: [{ topic: "latency", key: String(i), value: JSON.stringify({ i }) }] });
    for (;;) {
      const runs = await h.platform.store.db.selectFrom("runs").select("id").where("pipelineId", "=", "latency").execute();
      const fresh = runs.find((r) => !before.some((b) => b.id === r.id));
      const started = fresh ? (await h.platform.store.tasks.listByRun(fresh.id))[0]?.startedAt : null;
      if (fresh && started) {
        latencies.push(started - sentAt);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  console.log(`  p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies[latencies.length - 1] ?? 0} ms (goal p50 ≤ 100 ms; Airflow's sensors poll every 60 s by default)`);
} finally {
  await producer.close();
  await h.close();
  await kafka.close();
}
