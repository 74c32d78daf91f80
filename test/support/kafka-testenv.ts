/**
 * A real Apache Kafka broker for tests, without a container engine: kafka_2.13 and its runtime
 * dependencies resolved from Maven Central by scripts/kafka-testenv/fetch.sh and cached in
 * ~/.cache/capstan/kafka/<version>/libs/, run on the machine's Java 17 in KRaft combined mode
 * (one process is controller and broker). Each test file starts its own broker on free loopback
 * ports with a temporary data folder (startKafkaTestenv), and stops it after.
 *
 * The broker has two client listeners: PLAINTEXT, and SASL_PLAINTEXT with the PLAIN mechanism for
 * one user, so tests can reach it with and without (and with wrong) credentials. stop() and start()
 * keep the data folder and the ports, for tests of a broker that goes away and comes back.
 *
 * The global setup calls ensureKafka() beside the other components, so all fetch at once on a
 * fresh machine; a failed fetch fails the run with Maven's own last lines.
 */
import { Admin } from "@platformatic/kafka";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort, stopChild } from "./child-process.js";
import { runCacheScript } from "./go-testenv.js";

const FETCH_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts/kafka-testenv/fetch.sh");
const READY_TIMEOUT_MS = 60_000;

/** Where the fetched Kafka jars are (the folder holding libs/), fetching them first when the cache lacks them. */
export async function ensureKafka(progress: NodeJS.WritableStream = process.stderr): Promise<string> {
  return runCacheScript(FETCH_SCRIPT, { label: "kafka-testenv", what: "the Kafka broker", verb: "fetching" }, progress);
}

/** A running Kafka broker. */
export interface KafkaTestenv {
  /** host:port of the PLAINTEXT listener. */
  bootstrap: string;
  /** host:port of the SASL_PLAINTEXT listener (mechanism PLAIN). */
  saslBootstrap: string;
  saslUsername: string;
  saslPassword: string;
  /** Milliseconds from starting the JVM to the first answered metadata request. */
  startMs: number;
  /** Creates a topic (one replica) and waits until its partitions have leaders. */
  createTopic(name: string, partitions?: number): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  /** Stops the broker, keeping its data and ports (SIGKILL when `hard`). */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts the stopped broker again on the same ports and data. */
  start(): Promise<void>;
  /** Stops the broker and removes its data. */
  close(): Promise<void>;
}

/** Starts a broker on free loopback ports with a new temporary data folder. */
export async function startKafkaTestenv(): Promise<KafkaTestenv> {
  const home = await ensureKafka();
  const dir = await mkdtemp(join(tmpdir(), "capstan-kafka-"));
  const [plainPort, saslPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
  const saslUsername = "capstan";
  const saslPassword = randomBytes(12).toString("hex");
  const bootstrap = `127.0.0.1:${plainPort}`;
  const saslBootstrap = `127.0.0.1:${saslPort}`;
  const properties = join(dir, "server.properties");
  await writeFile(
    properties,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://${bootstrap},SASL_PLAINTEXT://${saslBootstrap},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://${bootstrap},SASL_PLAINTEXT://${saslBootstrap}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
      "sasl.enabled.mechanisms=PLAIN",
      `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${saslUsername}="${saslPassword}";`,
      `log.dirs=${join(dir, "data")}`,
      "num.partitions=1",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=4",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=false",
      "",
    ].join("\n"),
  );
  const classPath = `${join(home, "libs")}/*`;
  await runJava(classPath, ["kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", properties]);

  let child: ChildProcess | undefined;
  let startMs = 0;
  const recent: string[] = [];
  const log = createWriteStream(join(dir, "kafka.log"), { flags: "a" });

  const start = async (): Promise<void> => {
    const started = Date.now();
    const jvm = spawn("java", ["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath, "kafka.Kafka", properties], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = jvm;
    for (const stream of [jvm.stdout, jvm.stderr]) {
      stream.setEncoding("utf8").on("data", (chunk: string) => {
        log.write(chunk);
        recent.push(chunk);
        if (recent.length > 50) recent.shift();
      });
    }
    try {
      await waitReady(jvm, bootstrap, () => recent.join(""));
    } catch (error) {
      jvm.kill("SIGKILL");
      throw error;
    }
    startMs = Date.now() - started;
  };
  const stop = async (options: { hard?: boolean } = {}): Promise<void> => {
    if (child) await stopChild(child, options.hard === true ? "SIGKILL" : "SIGTERM");
    child = undefined;
  };

  await start();
  return {
    bootstrap,
    saslBootstrap,
    saslUsername,
    saslPassword,
    get startMs() {
      return startMs;
    },
    async createTopic(name, partitions = 1) {
      await withAdmin(bootstrap, async (admin) => {
        await admin.createTopics({ topics: [name], partitions, replicas: 1 });
        const deadline = Date.now() + 15_000;
        for (;;) {
          const metadata = await admin.metadata({ topics: [name], forceUpdate: true });
          const topic = metadata.topics.get(name);
          if (topic && topic.partitionsCount === partitions && topic.partitions.every((p) => p.leader >= 0)) return;
          if (Date.now() > deadline) throw new Error(`topic ${name} had no leader for each partition within 15 s`);
          await sleep(50);
        }
      });
    },
    async deleteTopic(name) {
      await withAdmin(bootstrap, (admin) => admin.deleteTopics({ topics: [name] }));
    },
    stop,
    start,
    async close() {
      await stop();
      log.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function withAdmin<T>(bootstrap: string, action: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: "capstan-test", bootstrapBrokers: [bootstrap], retries: 3 });
  try {
    return await action(admin);
  } finally {
    await admin.close();
  }
}

/**
 * A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as `kafka-storage random-uuid`
 * prints; never one starting with "-", which the storage tool's argument parser reads as an option.
 */
function clusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

async function runJava(classPath: string, args: string[]): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn("java", ["-cp", classPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    for (const stream of [child.stdout, child.stderr]) stream.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`java ${args[0] ?? ""} failed (exit ${String(code)}):\n${output}`));
    });
  });
}

/** Ready once a metadata request names the broker; the JVM exiting first fails with its output. */
async function waitReady(child: ChildProcess, bootstrap: string, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the Kafka broker exited (${String(child.exitCode ?? child.signalCode)}) before it was ready; its output:\n${output()}`);
    const admin = new Admin({ clientId: "capstan-test-ready", bootstrapBrokers: [bootstrap], retries: 0, connectTimeout: 1_000 });
    try {
      const metadata = await admin.metadata({ topics: [] });
      if (metadata.brokers.size > 0) return;
    } catch {
      // not listening or not yet a broker
    } finally {
      await admin.close().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`the Kafka broker was not ready at ${bootstrap} within ${READY_TIMEOUT_MS / 1000} s; its output:\n${output()}`);
    await sleep(100);
  }
}
