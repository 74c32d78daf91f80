/**
 * kafka_sensor tasks in pipeline files: what loads (defaults, no pool slot, the outputs downstream
 * templates read) and bad values refused with the file, line and field named.
 */
import { describe, expect, it } from "vitest";
import { PipelineFileError } from "../../src/pipelines/errors.js";
import { loadYamlPipeline } from "../../src/pipelines/load-yaml.js";
import { openHarness } from "../support/platform-harness.js";

function errorsOf(text: string): string {
  try {
    loadYamlPipeline("p.yaml", text);
  } catch (error) {
    if (error instanceof PipelineFileError) return error.message;
    throw error;
  }
  throw new Error("expected the file to be refused");
}

const pipeline = (sensor: string, extra = "") => `id: p\ntasks:\n  wait:\n    kafka_sensor: ${sensor}\n${extra}  next: { command: "echo {{ tasks.wait.outputs.value }}", depends_on: wait }\n`;

describe("kafka_sensor: in a pipeline file", () => {
  it("loads a sensor with its defaults, holding no pool slot, with the message's fields as outputs", () => {
    const spec = loadYamlPipeline("p.yaml", pipeline("{ connection: events, topic: drift }"));
    const wait = spec.tasks.wait;
    expect(wait?.kind).toBe("kafka_sensor");
    expect(wait?.kafkaSensor).toEqual({ connection: "events", topic: "drift", from: "latest", timeoutMs: 7 * 24 * 3_600_000, format: "json", filter: {} });
    expect(wait?.poolSlots).toBe(0);
    expect(wait?.outputs).toEqual(["topic", "partition", "offset", "timestamp", "key", "value", "headers"]);
    const full = loadYamlPipeline("p.yaml", pipeline("{ connection: events, topic: drift, from: run_start, timeout: 10m, format: text, filter: { key: model-7, headers: { type: drift } } }"));
    const cel = loadYamlPipeline("p.yaml", pipeline(`{ connection: events, topic: drift, filter: 'value.score > 0.3 && headers.type == "drift"' }`));
    expect(cel.tasks.wait?.kafkaSensor?.filter).toEqual({ expression: 'value.score > 0.3 && headers.type == "drift"' });
    expect(full.tasks.wait?.kafkaSensor).toEqual({ connection: "events", topic: "drift", from: "run_start", timeoutMs: 600_000, format: "text", filter: { key: "model-7", headers: { type: "drift" } } });
  });

  it("refuses a bad topic, an unparseable timeout, an unknown from, a bad connection name and unknown fields, naming the line and field", () => {
    expect(errorsOf(pipeline("{ connection: events, topic: 'a b' }"))).toMatch(/p\.yaml:4:.*tasks\.wait\.kafka_sensor\.topic.*Kafka topic name/);
    expect(errorsOf(pipeline("{ connection: events, topic: drift, timeout: soon }"))).toMatch(/p\.yaml:4:.*tasks\.wait\.kafka_sensor\.timeout.*not a duration/);
    expect(errorsOf(pipeline("{ connection: events, topic: drift, timeout: 0s }"))).toMatch(/tasks\.wait\.kafka_sensor\.timeout.*longer than 0/);
    expect(errorsOf(pipeline("{ connection: events, topic: drift, from: beginning }"))).toMatch(/tasks\.wait\.kafka_sensor\.from.*latest.*earliest.*run_start/);
    expect(errorsOf(pipeline("{ connection: Events, topic: drift }"))).toMatch(/tasks\.wait\.kafka_sensor\.connection.*connection name/);
    expect(errorsOf(pipeline("{ connection: events, topic: drift, group: g }"))).toMatch(/tasks\.wait\.kafka_sensor\.group.*unknown field/);
    expect(errorsOf(pipeline("{ connection: events, topic: drift, filter: { value: x } }"))).toMatch(/kafka_sensor\.filter\.value: unknown field/);
    expect(errorsOf(pipeline("{ connection: events, topic: drift, filter: 'value.score >' }"))).toMatch(/p\.yaml:4:.*tasks\.wait\.kafka_sensor\.filter.*does not parse.*expected a CEL expression/);
    expect(errorsOf(pipeline("{ connection: events, topic: drift, filter: 'nosuch == 1' }"))).toMatch(/tasks\.wait\.kafka_sensor\.filter.*nosuch/);
    expect(errorsOf(pipeline("{ topic: drift }"))).toMatch(/tasks\.wait\.kafka_sensor\.connection/);
  });

  it("refuses a sensor that also has a command, or asks for pool slots", () => {
    expect(errorsOf(pipeline("{ connection: events, topic: drift }", "    command: 'true'\n"))).toMatch(/tasks\.wait.*exactly one of command, python, notebook or kafka_sensor; this one has command and kafka_sensor/);
    expect(errorsOf(pipeline("{ connection: events, topic: drift }", "    pool_slots: 2\n"))).toMatch(/tasks\.wait\.pool_slots.*holds no pool slot/);
  });

  it("is left out of the executor checks: a sensor loads where the default executor is not configured", async () => {
    const h = await openHarness({
      pipelines: { "s.yaml": "id: s\ntasks:\n  wait: { kafka_sensor: { connection: events, topic: drift } }\n", "c.yaml": "id: c\ntasks:\n  run: { command: 'true' }\n" },
      start: false,
      configure: (config) => (config.defaultExecutor = "kubernetes"),
    });
    try {
      expect(h.platform.registry.get("s")?.spec.tasks.wait?.kind).toBe("kafka_sensor");
      const errors = h.platform.registry.errors().map((e) => e.message).join("\n");
      expect(errors).toMatch(/executor "kubernetes" is not configured here; available: local;/);
      expect(errors).not.toContain("s.yaml");
    } finally {
      await h.close();
    }
  });
});
