/**
 * kafka_sensor tasks against a real broker (one per file): a sensor ends with the first message
 * matching its key and headers as its outputs, which a downstream task reads through templates;
 * it ignores messages that do not match, fails with the reason when its timeout passes, holds no
 * pool slot while it waits (a pool of one slot still runs another task), stops when its run is
 * cancelled, fails clearly on an unknown connection, and survives a restart of the platform
 * without missing a message produced while no scheduler ran. A CEL filter (the triggers') picks
 * by value. A python task produces through its
 * connection with the runtime's helper (`from capstan import kafka`), over SASL PLAIN, and the
 * test consumes what it sent; wrong credentials fail the task with a message that says so.
 */
import { Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { ConnectionService } from "../../src/connections/index.js";
import type { AttemptEnd } from "../../src/executors/executor.js";
import { KafkaSensorExecutor } from "../../src/sensors/index.js";
import { Platform } from "../../src/wiring/index.js";
import { eventually as until } from "../support/eventually.js";
import { startKafkaTestenv, type KafkaTestenv } from "../support/kafka-testenv.js";
import { openHarness, type Harness } from "../support/platform-harness.js";

const SENSE = `id: sense
team: team-a
tasks:
  wait:
    pool: one
    kafka_sensor: { connection: events, topic: drift, timeout: 60s, filter: { key: model-7, headers: { type: drift } } }
  side:
    pool: one
    command: "true"
  use:
    depends_on: wait
    command: 'printf "{\\"key\\": \\"%s\\", \\"offset\\": \\"%s\\"}" "$K" "$O" > "$CAPSTAN_OUTPUT"'
    env: { K: "{{ tasks.wait.outputs.key }}", O: "{{ tasks.wait.outputs.offset }}" }
`;

const CEL = `id: cel
team: team-a
tasks:
  wait:
    kafka_sensor: { connection: events, topic: drift, filter: 'has(value.score) && value.score > 0.5 && headers.type == "drift"' }
`;

const SHORT = `id: short
team: team-a
tasks:
  wait:
    kafka_sensor: { connection: events, topic: drift, from: earliest, timeout: 2s, filter: { key: never } }
`;

const UNKNOWN = `id: unknown
team: team-a
tasks:
  wait:
    kafka_sensor: { connection: nope, topic: drift }
  missing:
    kafka_sensor: { connection: events, topic: no-such-topic }
`;

const EMIT = `id: emit
team: team-a
params:
  timeout: 10
tasks:
  emit:
    python: emit.py
    connections: [events-sasl]
    env: { PRODUCE_TIMEOUT: "{{ params.timeout }}" }
`;

const EMIT_PY = `import os
from capstan import kafka
sent = kafka.produce(connection="events-sasl", topic="scores", value={"user": 7, "score": 0.4}, key="user-7", headers={"source": "retrain"}, timeout=float(os.environ["PRODUCE_TIMEOUT"]))
print("sent", sent)
`;

let kafka: KafkaTestenv;
let h: Harness;
let platform: Platform;

async function produce(messages: { key: string; value: string; headers?: Record<string, string> }[]): Promise<void> {
  const producer = new Producer({ clientId: "t", bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
  await producer.send({ messages: messages.map((m) => ({ topic: "drift", key: m.key, value: m.value, headers: new Map(Object.entries(m.headers ?? {})) })) });
  await producer.close();
}

async function readLog(runId: string, taskId: string): Promise<string> {
  const attempts = await platform.store.attempts.listByTask({ runId, taskId });
  const path = attempts[attempts.length - 1]?.logPath;
  return path ? readFileSync(path, "utf8") : "(no log)";
}

async function task(runId: string, taskId: string) {
  return platform.store.tasks.get({ runId, taskId });
}

beforeAll(async () => {
  kafka = await startKafkaTestenv();
  await kafka.createTopic("drift", 2);
  await kafka.createTopic("scores", 1);
  h = await openHarness({ pipelines: { "sense.yaml": SENSE, "short.yaml": SHORT, "unknown.yaml": UNKNOWN, "cel.yaml": CEL, "emit.yaml": EMIT, "emit.py": EMIT_PY }, start: false, configure: (config) => (config.pools = { ...config.pools, one: { slots: 1 } }) });
  platform = h.platform;
  await new ConnectionService(platform.store, platform.secrets).set("team-a", "events", { kind: "kafka", settings: { bootstrap_servers: [kafka.bootstrap] } });
  await platform.secrets.set("team-a", "kafka", { password: kafka.saslPassword });
  await new ConnectionService(platform.store, platform.secrets).set("team-a", "events-sasl", {
    kind: "kafka",
    settings: { bootstrap_servers: [kafka.saslBootstrap], sasl_mechanism: "PLAIN", sasl_username: kafka.saslUsername },
    secrets: { sasl_password: "kafka/password" },
  });
  await platform.start();
}, 120_000);

afterAll(async () => {
  await platform?.close().catch(() => undefined);
  await kafka?.close();
});

describe("kafka_sensor", () => {
  it("ends with the first matching message as its outputs, ignores the rest, and holds no pool slot while it waits", async () => {
    const run = await platform.scheduler.trigger("sense");
    await h.waitForTask(run.id, "wait", ["running"]);
    // The pool has one slot: the other task in it runs while the sensor waits.
    await h.waitForTask(run.id, "side", ["success"]);
    expect((await task(run.id, "wait"))?.state).toBe("running");
    await produce([
      { key: "model-7", value: JSON.stringify({ n: 1 }), headers: { type: "other" } },
      { key: "model-8", value: JSON.stringify({ n: 2 }), headers: { type: "drift" } },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await task(run.id, "wait"))?.state).toBe("running");
    await produce([{ key: "model-7", value: JSON.stringify({ score: 0.4 }), headers: { type: "drift", source: "monitor" } }]);
    const finished = await h.waitForRun(run.id);
    expect(finished.state).toBe("success");
    const wait = await task(run.id, "wait");
    expect(wait?.outputs).toMatchObject({ topic: "drift", key: "model-7", value: { score: 0.4 }, headers: { type: "drift", source: "monitor" }, partition: expect.any(Number) as number, offset: expect.any(String) as string });
    expect(typeof wait?.outputs?.timestamp).toBe("string");
    expect((await task(run.id, "use"))?.outputs).toEqual({ key: "model-7", offset: wait?.outputs?.offset });
  }, 60_000);

  it("takes the first message its CEL filter is true for", async () => {
    const run = await platform.scheduler.trigger("cel");
    await h.waitForTask(run.id, "wait", ["running"]);
    await produce([
      { key: "a", value: JSON.stringify({ score: 0.2 }), headers: { type: "drift" } },
      { key: "b", value: JSON.stringify({ other: 1 }), headers: { type: "drift" } },
      { key: "c", value: JSON.stringify({ score: 0.9 }), headers: { type: "other" } },
      { key: "d", value: JSON.stringify({ score: 0.8 }), headers: { type: "drift" } },
    ]);
    expect((await h.waitForRun(run.id)).state).toBe("success");
    expect((await task(run.id, "wait"))?.outputs).toMatchObject({ key: "d", value: { score: 0.8 } });
  }, 30_000);

  it("fails with the reason when no matching message comes within its timeout", async () => {
    const run = await platform.scheduler.trigger("short");
    const finished = await h.waitForRun(run.id);
    expect(finished.state).toBe("failed");
    expect((await task(run.id, "wait"))?.reason).toMatch(/^kafka_sensor: no matching message on drift within 2s$/);
  }, 30_000);

  it("fails an unknown connection with the team's connections named, and a topic that does not exist with the broker's answer", async () => {
    const run = await platform.scheduler.trigger("unknown");
    await h.waitForRun(run.id);
    expect((await task(run.id, "wait"))?.reason).toMatch(/kafka_sensor\.connection: team team-a has no connection "nope"; its connections: events-sasl, events|its connections: events, events-sasl/);
    expect((await task(run.id, "missing"))?.reason).toMatch(/^kafka_sensor: cannot read the offsets of topic no-such-topic through connection events: /);
  }, 30_000);

  it("stops waiting when its run is cancelled", async () => {
    const run = await platform.scheduler.trigger("sense");
    await h.waitForTask(run.id, "wait", ["running"]);
    await platform.scheduler.cancel(run.id);
    const finished = await h.waitForRun(run.id);
    expect(finished.state).not.toBe("success");
    const attempts = await platform.store.attempts.listByTask({ runId: run.id, taskId: "wait" });
    expect(attempts.map((a) => a.state)).not.toContain("running");
  }, 30_000);

  it("lets a python task produce through its connection with the runtime's helper, and names refused credentials", async () => {
    const run = await platform.scheduler.trigger("emit");
    const finished = await h.waitForRun(run.id);
    expect(finished.state, await readLog(run.id, "emit")).toBe("success");
    const consumer = new Consumer({ clientId: "t", groupId: "t-scores", bootstrapBrokers: [kafka.bootstrap], deserializers: stringDeserializers });
    try {
      const stream = await consumer.consume({ topics: ["scores"], mode: "earliest" });
      const message = await new Promise<{ key: string; value: string; headers: Map<string, string> }>((resolve) => stream.once("data", resolve));
      expect(message.key).toBe("user-7");
      expect(JSON.parse(message.value)).toEqual({ user: 7, score: 0.4 });
      expect(Object.fromEntries(message.headers)).toEqual({ source: "retrain" });
      await stream.close();
    } finally {
      await consumer.close();
    }
    await platform.secrets.set("team-a", "kafka", { password: "not-the-password" });
    try {
      const refused = await platform.scheduler.trigger("emit", { params: { timeout: 3 } });
      expect((await h.waitForRun(refused.id)).state).toBe("failed");
      // The client reports a refused login as a refusal when it saw the broker's answer, else as a bootstrap that did not complete.
      expect(await readLog(refused.id, "emit")).toMatch(
        /KafkaProduceError: connection 'events-sasl' \(127\.0\.0\.1:[0-9]+\) (refused the credentials of user 'capstan'|could not be reached, or did not accept the PLAIN login of user 'capstan' in time \(check the servers, the connection's sasl_username and the secret behind sasl_password\))/,
      );
    } finally {
      await platform.secrets.set("team-a", "kafka", { password: kafka.saslPassword });
    }
  }, 90_000);

  it("resumes after a restart of the platform and takes a message produced while it was down", async () => {
    const run = await platform.scheduler.trigger("sense");
    await h.waitForTask(run.id, "wait", ["running"]);
    await platform.close();
    await produce([{ key: "model-7", value: JSON.stringify({ while: "down" }), headers: { type: "drift" } }]);
    const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
    config.pools = { ...config.pools, one: { slots: 1 } };
    platform = await Platform.open({ config, logger: pino({ level: "silent" }) });
    await platform.start();
    const finished = await until("the run to finish", async () => {
      const r = await platform.store.runs.get(run.id);
      return r && (r.state === "success" || r.state === "failed") ? r : undefined;
    });
    expect(finished.state).toBe("success");
    expect((await task(run.id, "wait"))?.outputs).toMatchObject({ key: "model-7", value: { while: "down" } });
  }, 60_000);

  it("resumes an attempt stopped before its offsets were kept from the offsets at its start time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-sensor-"));
    try {
      await produce([{ key: "model-7", value: JSON.stringify({ at: "before" }), headers: { type: "drift" } }]);
      await new Promise((resolve) => setTimeout(resolve, 20)); // the next message gets a later timestamp than the attempt's start
      const startedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await produce([{ key: "model-7", value: JSON.stringify({ at: "after" }), headers: { type: "drift" } }]);
      const sensor = { connection: "events", topic: "drift", from: "latest", timeoutMs: 30_000, format: "json", filter: { key: "model-7", headers: { type: "drift" } } };
      writeFileSync(join(dir, "kafka-sensor.json"), JSON.stringify({ team: "team-a", sensor, startedAt, deadline: startedAt + 30_000, sinceMs: startedAt, offsets: null, logPath: join(dir, "log") }));
      const connections = new ConnectionService(platform.store, platform.secrets);
      const executor = new KafkaSensorExecutor({
        runContext: () => Promise.resolve({ team: "team-a", runStartedAt: null }),
        resolveConnection: (team, name) => connections.resolve(team, name),
        now: () => Date.now(),
        log: { info: () => undefined, warn: () => undefined },
      });
      const ended = new Promise<AttemptEnd>((resolve) => executor.onAttemptEnd((_ref, end) => resolve(end)));
      try {
        const adopted = await executor.adopt([{ runId: "r", taskId: "wait", tryNumber: 1, token: `t${startedAt}`, externalId: "kafka_sensor:t", pid: null, pidStart: null, attemptDir: dir, logPath: join(dir, "log"), killReason: null }]);
        expect([...adopted.values()]).toEqual([{ status: "running" }]);
        const end = await ended;
        expect(end.outcome).toBe("success");
        expect(end.outputs).toMatchObject({ key: "model-7", value: { at: "after" } });
        expect(JSON.parse(readFileSync(join(dir, "kafka-sensor.json"), "utf8"))).toMatchObject({ offsets: expect.any(Object) as object });
      } finally {
        await executor.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
