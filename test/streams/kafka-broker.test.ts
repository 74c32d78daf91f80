/**
 * The test Kafka broker itself: it starts in KRaft mode from the cached Maven jars, the chosen Node
 * client produces to it and reads back in a consumer group with offsets committed by hand, the SASL
 * listener admits its user and refuses a wrong password, and a broker stopped and started again keeps
 * its topics and committed offsets.
 */
import { Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKafkaTestenv, type KafkaTestenv } from "../support/kafka-testenv.js";

let kafka: KafkaTestenv;

beforeAll(async () => {
  kafka = await startKafkaTestenv();
  process.stderr.write(`[kafka-broker.test] broker answered metadata ${kafka.startMs} ms after its JVM started\n`);
}, 120_000);

afterAll(async () => {
  await kafka?.close();
});

async function readAll(bootstrap: string, topic: string, group: string, count: number): Promise<{ partition: number; offset: bigint; key: string; value: string }[]> {
  const consumer = new Consumer({ clientId: "t", groupId: group, bootstrapBrokers: [bootstrap], deserializers: stringDeserializers, autocommit: false });
  const stream = await consumer.consume({ topics: [topic], mode: "committed", fallbackMode: "earliest", maxWaitTime: 200 });
  const seen: { partition: number; offset: bigint; key: string; value: string }[] = [];
  try {
    for await (const message of stream) {
      seen.push({ partition: message.partition, offset: message.offset, key: message.key, value: message.value });
      if (seen.length === count) {
        await consumer.commit({
          offsets: seen.map((m) => ({ topic, partition: m.partition, offset: m.offset + 1n, leaderEpoch: 0 })),
        });
        break;
      }
    }
  } finally {
    await stream.close();
    await consumer.close();
  }
  return seen;
}

describe("the test Kafka broker", () => {
  it("takes messages from the Node client and gives them back to a consumer group", async () => {
    await kafka.createTopic("events", 3);
    const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
    await producer.send({ messages: Array.from({ length: 30 }, (_, i) => ({ topic: "events", key: `k${i}`, value: `v${i}` })) });
    await producer.close();
    const seen = await readAll(kafka.bootstrap, "events", "g1", 30);
    expect(seen.map((m) => m.value).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`).sort());
    expect(new Set(seen.map((m) => m.partition)).size).toBeGreaterThan(1);
  }, 60_000);

  it("admits the SASL user and refuses a wrong password", async () => {
    const good = new Producer({
      clientId: "t",
      bootstrapBrokers: [kafka.saslBootstrap],
      serializers: stringSerializers,
      sasl: { mechanism: "PLAIN", username: kafka.saslUsername, password: kafka.saslPassword },
    });
    await good.send({ messages: [{ topic: "events", key: "s", value: "sasl" }] });
    await good.close();
    const bad = new Producer({
      clientId: "t",
      bootstrapBrokers: [kafka.saslBootstrap],
      serializers: stringSerializers,
      retries: 0,
      sasl: { mechanism: "PLAIN", username: kafka.saslUsername, password: "wrong" },
    });
    await expect(bad.send({ messages: [{ topic: "events", key: "s", value: "x" }] })).rejects.toThrow();
    await bad.close();
  }, 60_000);

  it("keeps topics and committed offsets across a stop and start", async () => {
    await kafka.stop({ hard: true });
    await kafka.start();
    const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
    await producer.send({ messages: [{ topic: "events", key: "after", value: "after-restart", partition: 0 }] });
    await producer.close();
    // g1 committed the first 30; only what came later is read again.
    const seen = await readAll(kafka.bootstrap, "events", "g1", 2);
    expect(seen.map((m) => m.value).sort()).toEqual(["after-restart", "sasl"]);
  }, 120_000);
});
