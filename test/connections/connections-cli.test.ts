/**
 * `capstan connections list|set|delete|test` on a home without a server, against a real Kafka
 * broker: a connection set from flags with a secret reference, listed without the secret's value,
 * tested (exit 0 when it connects, 1 when it does not), refused with the field named, deleted.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-process.js";
import { startKafkaTestenv, type KafkaTestenv } from "../support/kafka-testenv.js";
import { tempDir } from "../support/platform-harness.js";

let kafka: KafkaTestenv;
let dir: string;

beforeAll(async () => {
  kafka = await startKafkaTestenv();
  dir = tempDir();
  mkdirSync(join(dir, "pipelines"));
}, 120_000);

afterAll(async () => {
  await kafka?.close();
});

const cli = (args: readonly string[]) => runCli(args, { cwd: dir, env: { CAPSTAN_HOME: join(dir, "home") } });

describe("capstan connections", () => {
  it("sets, lists, tests and deletes a Kafka connection with its password from a team secret", async () => {
    expect((await cli(["secrets", "set", "kafka", `password=${kafka.saslPassword}`])).code).toBe(0);
    const set = await cli([
      "connections",
      "set",
      "events",
      "--kind",
      "kafka",
      "--setting",
      `bootstrap_servers=${kafka.saslBootstrap}`,
      "--setting",
      "sasl_mechanism=PLAIN",
      "--setting",
      `sasl_username=${kafka.saslUsername}`,
      "--secret",
      "sasl_password=kafka/password",
    ]);
    expect(set.code, set.stderr).toBe(0);
    const listed = await cli(["connections", "list"]);
    expect(listed.stdout).toContain("events");
    expect(listed.stdout).toContain("sasl_password=kafka/password");
    expect(listed.stdout).not.toContain(kafka.saslPassword);
    const tested = await cli(["connections", "test", "events"]);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/^ok: metadata from /);

    expect((await cli(["connections", "set", "down", "--kind", "kafka", "--setting", "bootstrap_servers=127.0.0.1:1"])).code).toBe(0);
    const failed = await cli(["connections", "test", "down"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^failed: /);

    const bad = await cli(["connections", "set", "bad", "--kind", "kafka", "--setting", "bootstrap_servers=nowhere"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("settings.bootstrap_servers");
    const unknown = await cli(["connections", "test", "nothing"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no connection "nothing"');

    expect((await cli(["connections", "delete", "down"])).code).toBe(0);
    const json = JSON.parse((await cli(["--json", "connections", "list"])).stdout) as { connections: { name: string }[] };
    expect(json.connections.map((c) => c.name)).toEqual(["events"]);
  }, 120_000);
});
