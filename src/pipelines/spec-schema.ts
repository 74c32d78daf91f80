/**
 * The pipeline file format, as users write it in YAML or TypeScript (snake_case names), validated
 * with zod. Unknown fields are errors, so a typo never silently changes behaviour.
 */
import { z } from "zod";
import { cpuField, durationField, memoryField } from "../units/index.js";
import { sparkTaskSchema } from "./spark-task.js";

/** Airflow's trigger rules, all of them. */
export const TRIGGER_RULES = [
  "all_success",
  "all_failed",
  "all_done",
  "all_skipped",
  "one_success",
  "one_failed",
  "one_done",
  "none_failed",
  "none_skipped",
  "none_failed_min_one_success",
  "always",
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export const PARAM_TYPES = ["string", "number", "integer", "boolean", "object", "array"] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export const EXECUTOR_NAMES = ["local", "kubernetes"] as const;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ID_HINT = "letters, digits, '_', '-' and '.', starting with a letter or digit, at most 63 characters";
/** Task ids have no '.', which separates the parts of a template name ({{ tasks.ID.outputs.KEY }}). */
const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const TASK_ID_HINT = "letters, digits, '_' and '-', starting with a letter or digit, at most 63 characters";

const identifier = (what: string, pattern = ID_PATTERN, hint = ID_HINT) =>
  z
    .string({ error: `expected ${what} as a string (${hint})` })
    .max(63, { error: `${what} is longer than 63 characters` })
    .regex(pattern, { error: `${what} may contain ${hint}` });

const envValue = z.union([z.string(), z.number(), z.boolean()], {
  error: "expected an environment value (string, number or boolean)",
});

const resources = z.strictObject({
  cpu: cpuField.optional(),
  memory: memoryField.optional(),
  gpu: z.number().int().min(0, { error: "gpu must be a whole number ≥ 0" }).optional(),
});

const stringList = z.array(z.string({ error: "expected a string" }), { error: "expected a list of strings" });

/** Task fields that `defaults:` may set for every task of the pipeline. */
const taskDefaultFields = {
  trigger_rule: z.enum(TRIGGER_RULES, { error: `expected one of ${TRIGGER_RULES.join(", ")}` }).optional(),
  resources: resources.optional(),
  retries: z.number().int().min(0, { error: "retries must be a whole number ≥ 0" }).optional(),
  retry_delay: durationField.optional(),
  retry_exponential_backoff: z.boolean().optional(),
  max_retry_delay: durationField.optional(),
  timeout: durationField.optional(),
  pool: identifier("a pool name").optional(),
  pool_slots: z.number().int().min(1, { error: "pool_slots must be a whole number ≥ 1" }).optional(),
  priority_weight: z.number().int().optional(),
  env: z.record(z.string(), envValue).optional(),
  /** Environment variables from team secrets: NAME: "secret/key" or { secret, key }. */
  secrets: z
    .record(
      z.string(),
      z.union([z.string(), z.strictObject({ secret: z.string(), key: z.string() })], { error: 'a secret reference is "secret-name/key" or { secret: name, key: key }' }),
    )
    .optional(),
  /** Team connections whose settings and credentials reach the task as CAPSTAN_CONN_<NAME>_<FIELD> (docs/connections.md). */
  connections: z
    .array(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { error: "a connection name: lowercase letters, digits and '-', starting with a letter" }))
    .max(32)
    .optional(),
  cwd: z.string().optional(),
  kernel: z.string().optional(),
  skip_on_exit_code: z.union([z.number().int(), z.array(z.number().int())]).optional(),
  executor: z.enum(EXECUTOR_NAMES, { error: `expected one of ${EXECUTOR_NAMES.join(", ")}` }).optional(),
  cluster: z.string().optional(),
  namespace: z.string().optional(),
  image: z.string().optional(),
  /** Pod-level options for the Kubernetes executor, checked by that executor. */
  kubernetes: z.record(z.string(), z.unknown()).optional(),
};

export const taskDefaultsSchema = z.strictObject(taskDefaultFields);

/** A task the platform runs itself: it waits for a matching Kafka message (src/sensors, docs/streams.md). */
const kafkaSensorSchema = z.strictObject(
  {
    connection: z.string({ error: "kafka_sensor.connection must name a kafka connection of the team" }).regex(/^[a-z][a-z0-9-]{0,62}$/, { error: "a connection name: lowercase letters, digits and '-', starting with a letter" }),
    topic: z.string({ error: "kafka_sensor.topic must be a topic name" }).regex(/^[A-Za-z0-9._-]{1,249}$/, { error: "a Kafka topic name: letters, digits, '.', '_', '-', at most 249 characters" }),
    from: z.enum(["latest", "earliest", "run_start"], { error: "from is latest (messages produced after the sensor starts), earliest (the whole topic) or run_start (since the run started)" }).optional(),
    timeout: durationField.optional(),
    format: z.enum(["json", "text"], { error: "format is json (the value must parse as JSON) or text" }).optional(),
    /** A CEL expression over the message as triggers take (checked in normalize.ts), or exact matches on the key and headers. */
    filter: z
      .union(
        [
          z.string(),
          z.strictObject({
            key: z.string({ error: "filter.key must be a string (the message key, matched exactly)" }).optional(),
            headers: z.record(z.string(), z.string({ error: "a header value to match must be a string" }), { error: "filter.headers maps header names to the values to match" }).optional(),
          }),
        ],
        { error: 'filter is a CEL expression as text (e.g. value.type == "drift") or { key?, headers? } matched exactly' },
      )
      .optional(),
  },
  { error: "kafka_sensor is { connection, topic, from?, timeout?, format?, filter? }" },
);

export const taskSchema = z.strictObject({
  description: z.string().optional(),
  command: z.union([z.string(), stringList.min(1, { error: "command list must not be empty" })], {
    error: "command must be a string (run with sh -c) or a list of strings (argv)",
  }).optional(),
  python: z.string({ error: "python must be the path of a script" }).optional(),
  args: stringList.optional(),
  notebook: z.string({ error: "notebook must be the path of an .ipynb file" }).optional(),
  /** A Spark job run with spark-submit (src/pipelines/spark-task.ts, docs/spark.md). */
  spark: sparkTaskSchema.optional(),
  kafka_sensor: kafkaSensorSchema.optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  depends_on: z.union([z.string(), stringList]).optional(),
  outputs: stringList.optional(),
  /** A model version the platform registers from this task's output when the task succeeds. */
  register_model: z
    .strictObject({
      name: z.string({ error: "register_model.name must be the model's name" }),
      output: z.string({ error: "register_model.output must be the key of this task's output that holds the model's path" }),
      alias: z.string({ error: "register_model.alias must be an alias name such as production" }).optional(),
      metrics_from: z.string({ error: "register_model.metrics_from must be a task id" }).optional(),
    }, { error: "register_model is { name, output, alias?, metrics_from? }" })
    .optional(),
  ...taskDefaultFields,
});

const paramType = z.enum(PARAM_TYPES, { error: `expected one of ${PARAM_TYPES.join(", ")}` });

export const paramSchema = z.union([
  z.strictObject({
    type: paramType,
    default: z.unknown().optional(),
    description: z.string().optional(),
    enum: z.array(z.unknown()).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  }),
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.unknown()),
], { error: "a param is either { type, default?, description?, enum?, minimum?, maximum? } or a plain default value" });

const dateLike = z.union([z.string(), z.date()], { error: "expected a date such as 2026-01-01 or 2026-01-01T03:00:00" });

/** A run per batch of messages of a Kafka topic (src/streams, docs/streams.md). */
const kafkaTriggerSchema = z.strictObject({
  kafka: z.strictObject({
    connection: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { error: "a connection name: lowercase letters, digits and '-', starting with a letter" }),
    topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, { error: "a Kafka topic name: letters, digits, '.', '_', '-', at most 249 characters" }),
    group: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, { error: "a consumer group name: letters, digits, '.', '_', '-'" }),
    format: z.enum(["json", "text"], { error: "format is json (each value must parse as JSON) or text" }).optional(),
    /** A CEL expression over one message; parsed and checked in normalize.ts (pipelines/trigger-filter.ts). */
    filter: z.string({ error: "filter is a CEL expression as text, e.g. value.type == \"click\"" }).optional(),
    batch: z
      .strictObject({
        max_messages: z.number().int().min(1, { error: "batch.max_messages must be a whole number ≥ 1" }).max(1_000_000, { error: "batch.max_messages is at most 1000000 (a batch over 1000 messages goes to a file, docs/streams.md)" }).optional(),
        max_wait: durationField.optional(),
      })
      .optional(),
  }),
});

export const pipelineSchema = z.strictObject({
  id: identifier("the pipeline id"),
  description: z.string().optional(),
  team: identifier("a team name").optional(),
  tags: stringList.optional(),
  schedule: z.union([z.string(), z.null()]).optional(),
  timezone: z.string().optional(),
  start_date: dateLike.optional(),
  end_date: dateLike.optional(),
  catchup: z.boolean().optional(),
  max_active_runs: z.number().int().min(1, { error: "max_active_runs must be ≥ 1" }).optional(),
  max_active_tasks: z.number().int().min(1, { error: "max_active_tasks must be ≥ 1" }).optional(),
  params: z.record(z.string(), paramSchema).optional(),
  triggers: z.array(kafkaTriggerSchema).max(16).optional(),
  defaults: taskDefaultsSchema.optional(),
  tasks: z.record(identifier("a task id", TASK_ID_PATTERN, TASK_ID_HINT), taskSchema, {
    error: (issue) => (issue.code === "invalid_type" ? "tasks must be a mapping of task id to task" : undefined),
  }).refine(
    (tasks) => Object.keys(tasks).length > 0,
    { error: "a pipeline needs at least one task" },
  ),
});

/** A pipeline definition as written (the input of validation). */
export type PipelineDefinition = z.input<typeof pipelineSchema>;
/** One task as written. */
export type TaskDefinition = z.input<typeof taskSchema>;
export type RawPipeline = z.output<typeof pipelineSchema>;
export type RawTask = z.output<typeof taskSchema>;
export type RawParam = z.output<typeof paramSchema>;
