/**
 * Kafka triggers and task connections in pipeline files: what loads, and bad values refused with
 * the file, line and field named.
 */
import { describe, expect, it } from "vitest";
import { PipelineFileError } from "../../src/pipelines/errors.js";
import { loadYamlPipeline } from "../../src/pipelines/load-yaml.js";

function errorsOf(text: string): string {
  try {
    loadYamlPipeline("p.yaml", text);
  } catch (error) {
    if (error instanceof PipelineFileError) return error.message;
    throw error;
  }
  throw new Error("expected the file to be refused");
}

const pipeline = (trigger: string) => `id: p\ntriggers:\n  - kafka: ${trigger}\ntasks:\n  t: { command: "true", connections: [events] }\n`;

describe("triggers: in a pipeline file", () => {
  it("loads a Kafka trigger with its defaults and a task's connections", () => {
    const spec = loadYamlPipeline("p.yaml", pipeline("{ connection: events, topic: visits, group: g }"));
    expect(spec.triggers).toEqual([{ kind: "kafka", connection: "events", topic: "visits", group: "g", format: "json", maxMessages: 100, maxWaitMs: 1000 }]);
    expect(spec.tasks.t?.connections).toEqual(["events"]);
  });

  it("refuses a batch of zero, a bad topic, an unknown format and an unknown field, naming the line and field", () => {
    expect(errorsOf(pipeline("{ connection: events, topic: visits, group: g, batch: { max_messages: 0 } }"))).toMatch(/p\.yaml:3:.*triggers\[0\]\.kafka\.batch\.max_messages.*≥ 1/);
    expect(errorsOf(pipeline("{ connection: events, topic: 'a b', group: g }"))).toMatch(/triggers\[0\]\.kafka\.topic.*Kafka topic name/);
    expect(errorsOf(pipeline("{ connection: events, topic: visits, group: g, format: avro }"))).toMatch(/triggers\[0\]\.kafka\.format/);
    expect(errorsOf(pipeline("{ connection: Events, topic: visits, group: g }"))).toMatch(/triggers\[0\]\.kafka\.connection/);
    expect(errorsOf(pipeline("{ connection: events, topic: visits, group: g, batch: { max_wait: soon } }"))).toMatch(/max_wait/);
  });

  it("loads a CEL filter, and refuses one that does not parse or type-check with the file, line, field and what is accepted", () => {
    const spec = loadYamlPipeline("p.yaml", pipeline(`{ connection: events, topic: visits, group: g, filter: 'value.type == "click" && headers.source == "web"' }`));
    expect(spec.triggers?.[0]?.filter).toBe('value.type == "click" && headers.source == "web"');
    expect(errorsOf(pipeline("{ connection: events, topic: visits, group: g, filter: 'value.type ==' }"))).toMatch(/p\.yaml:3:.*triggers\[0\]\.kafka\.filter.*does not parse.*expected a CEL expression .*key, value, headers, partition, offset and timestamp/);
    expect(errorsOf(pipeline("{ connection: events, topic: visits, group: g, filter: 'nosuch == 1' }"))).toMatch(/triggers\[0\]\.kafka\.filter.*nosuch/);
    expect(errorsOf(pipeline("{ connection: events, topic: visits, group: g, filter: 'offset + 1' }"))).toMatch(/triggers\[0\]\.kafka\.filter: the filter gives int, not a bool/);
    expect(errorsOf(pipeline("{ connection: events, topic: visits, group: g, filter: '' }"))).toMatch(/triggers\[0\]\.kafka\.filter: the filter is empty/);
    expect(errorsOf(pipeline("{ connection: events, topic: visits, group: g, filter: 3 }"))).toMatch(/triggers\[0\]\.kafka\.filter.*CEL expression as text/);
    // Size bounds: a hostile file cannot make loading slow.
    expect(errorsOf(pipeline(`{ connection: events, topic: visits, group: g, filter: '${"offset > 1 && ".repeat(400)}true' }`))).toMatch(/triggers\[0\]\.kafka\.filter: the filter is [0-9]+ characters, over the limit of 4096/);
    expect(errorsOf(pipeline(`{ connection: events, topic: visits, group: g, filter: '${"(".repeat(100)}true${")".repeat(100)}' }`))).toMatch(/triggers\[0\]\.kafka\.filter: the filter does not parse/);
  });
});
