/**
 * The `filter:` of a Kafka trigger: a CEL expression (the Common Expression Language of Kubernetes
 * admission policies and Envoy, made for expressions from untrusted authors: no loops, no I/O)
 * over one message. Here it is parsed and type-checked when the pipeline file loads; the messages
 * are matched in a worker thread with a time and memory limit (src/streams/message-filter.ts),
 * which builds the same environment from the declarations below.
 */
import { Environment } from "@marcbachmann/cel-js";

/** The variables a filter sees, with their CEL types: one message, as a run's params carry it. */
export const TRIGGER_FILTER_VARIABLES: readonly (readonly [name: string, type: string])[] = [
  ["key", "dyn"],
  ["value", "dyn"],
  ["headers", "map<string, string>"],
  ["partition", "int"],
  ["offset", "int"],
  ["timestamp", "dyn"],
];

/** Bounds on a filter's size, so a hostile pipeline file cannot make parsing or checking slow. */
export const TRIGGER_FILTER_LIMITS = { maxAstNodes: 1_000, maxDepth: 32, maxListElements: 256, maxMapEntries: 256, maxCallArguments: 16 } as const;

/** The longest filter accepted, in characters. */
export const MAX_TRIGGER_FILTER_LENGTH = 4_096;

export const TRIGGER_FILTER_HINT =
  'a CEL expression that is true for the messages to keep, over key, value, headers, partition, offset and timestamp, e.g. value.type == "click" && headers.source == "web"';

let environment: Environment | undefined;

function filterEnvironment(): Environment {
  if (environment) return environment;
  let env = new Environment({ limits: { ...TRIGGER_FILTER_LIMITS } });
  for (const [name, type] of TRIGGER_FILTER_VARIABLES) env = env.registerVariable(name, type);
  environment = env;
  return env;
}

/** Why `source` is not an acceptable filter, or undefined when it is one. */
export function triggerFilterProblem(source: string): string | undefined {
  if (source.trim() === "") return `the filter is empty; expected ${TRIGGER_FILTER_HINT}`;
  if (source.length > MAX_TRIGGER_FILTER_LENGTH) return `the filter is ${source.length} characters, over the limit of ${MAX_TRIGGER_FILTER_LENGTH}`;
  try {
    const checked = filterEnvironment().check(source);
    if (!checked.valid) {
      const what = checked.error?.name === "ParseError" ? "does not parse" : "does not type-check";
      return `the filter ${what}: ${firstLine(checked.error?.message ?? "invalid")}; expected ${TRIGGER_FILTER_HINT}`;
    }
    if (checked.type !== "bool" && checked.type !== "dyn") return `the filter gives ${checked.type}, not a bool; expected ${TRIGGER_FILTER_HINT}`;
  } catch (error) {
    return `the filter does not parse: ${firstLine(error instanceof Error ? error.message : String(error))}; expected ${TRIGGER_FILTER_HINT}`;
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split("\n")[0]?.trim() ?? message;
}
