/**
 * The JSON shapes that the CLI's --json output and the HTTP API share — a run with its tasks, a
 * task with its attempts, a pipeline summary, a log chunk, pools, secrets — written once as zod
 * schemas: the API validates its answers and documents them (/api/openapi.json) with these, and the
 * TypeScript types of the views are inferred from them. Keys are snake_case; times are ISO strings.
 */
import { z } from "zod";
import { PARAM_TYPES, TRIGGER_RULES, type LoadedPipeline } from "../pipelines/index.js";
import { ATTEMPT_STATES, RUN_STATES, RUN_TRIGGERS, TASK_STATES, type Attempt, type Run, type Store, type TaskInstance } from "../store/index.js";
import { checkoutCommitOf } from "../git-sync/index.js";

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

const isoTime = z.string().describe("An ISO 8601 time (UTC)");
const isoTimeOrNull = isoTime.nullable();
const count = z.int().min(0);

export const RunStateSchema = z.enum(RUN_STATES).meta({ id: "RunState" });
export const TaskStateSchema = z.enum(TASK_STATES).meta({ id: "TaskState" });
export const AttemptStateSchema = z.enum(ATTEMPT_STATES).meta({ id: "AttemptState" });
export const RunTriggerSchema = z.enum(RUN_TRIGGERS).meta({ id: "RunTrigger" });

export const TaskViewSchema = z
  .object({
    state: TaskStateSchema,
    tries: count,
    started_at: isoTimeOrNull,
    ended_at: isoTimeOrNull,
    reason: z.string().nullable().describe("Why the latest try failed (masked)"),
    outputs: z.record(z.string(), z.unknown()).nullable().describe("What the task wrote to $CAPSTAN_OUTPUT (masked)"),
    next_retry_at: isoTimeOrNull.optional().describe("When the next try starts; only while up_for_retry"),
  })
  .meta({ id: "TaskView" });
export type TaskView = z.infer<typeof TaskViewSchema>;

const runFields = {
  id: z.string(),
  pipeline: z.string(),
  version: z.string().describe("The pipeline version (content hash) the run pinned"),
  state: RunStateSchema,
  trigger: RunTriggerSchema,
  logical_date: isoTime,
  data_interval_start: isoTimeOrNull,
  data_interval_end: isoTimeOrNull,
  params: z.record(z.string(), z.unknown()),
  note: z.string().nullable(),
  created_at: isoTime,
  started_at: isoTimeOrNull,
  ended_at: isoTimeOrNull,
  team: z.string().optional().describe("The pipeline's team (API answers)"),
};

export const RunViewSchema = z.object({ ...runFields, tasks: z.record(z.string(), TaskViewSchema).describe("Tasks by id, in task order") }).meta({ id: "RunView" });
export type RunView = z.infer<typeof RunViewSchema>;

export const RunSummarySchema = z
  .object({ ...runFields, task_counts: z.partialRecord(TaskStateSchema, count).describe("How many tasks are in each state") })
  .meta({ id: "RunSummary" });
export type RunSummary = z.infer<typeof RunSummarySchema>;

export function taskView(ti: TaskInstance): TaskView {
  return {
    state: ti.state,
    tries: ti.tryNumber,
    started_at: isoOrNull(ti.startedAt),
    ended_at: isoOrNull(ti.endedAt),
    reason: ti.reason,
    outputs: ti.outputs,
    ...(ti.state === "up_for_retry" ? { next_retry_at: isoOrNull(ti.nextRetryAt) } : {}),
  };
}

/** A run and its tasks, in task order of the pinned version where known. */
export function runView(run: Run, tasks: readonly TaskInstance[], order?: readonly string[]): RunView {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const ordered = order ? new Set(order) : undefined;
  const ids = ordered ? [...[...ordered].filter((id) => byId.has(id)), ...tasks.map((t) => t.taskId).filter((id) => !ordered.has(id))] : tasks.map((t) => t.taskId);
  return {
    id: run.id,
    pipeline: run.pipelineId,
    version: run.version,
    state: run.state,
    trigger: run.trigger,
    logical_date: new Date(run.logicalDate).toISOString(),
    data_interval_start: isoOrNull(run.dataIntervalStart),
    data_interval_end: isoOrNull(run.dataIntervalEnd),
    params: run.params,
    note: run.note,
    created_at: new Date(run.createdAt).toISOString(),
    started_at: isoOrNull(run.startedAt),
    ended_at: isoOrNull(run.endedAt),
    tasks: Object.fromEntries(ids.map((id) => [id, taskView(byId.get(id) as TaskInstance)])),
  };
}

/** Loads a run's view from the store, or undefined when there is no such run. */
export async function loadRunView(store: Store, runId: string): Promise<RunView | undefined> {
  const run = await store.runs.get(runId);
  if (!run) return undefined;
  const tasks = await store.tasks.listByRun(runId);
  const version = await store.pipelines.getVersion(run.pipelineId, run.version);
  const order = version ? (JSON.parse(version.spec) as { taskOrder?: string[] }).taskOrder : undefined;
  return runView(run, tasks, order);
}

export const AttemptViewSchema = z
  .object({
    try: z.int().min(1),
    state: AttemptStateSchema,
    executor: z.string(),
    external_id: z.string().describe("The process group or pod of the attempt"),
    started_at: isoTime,
    ended_at: isoTimeOrNull,
    exit_code: z.int().nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: "AttemptView" });
export type AttemptView = z.infer<typeof AttemptViewSchema>;

export function attemptView(a: Attempt): AttemptView {
  return {
    try: a.tryNumber,
    state: a.state,
    executor: a.executor,
    external_id: a.externalId,
    started_at: new Date(a.startedAt).toISOString(),
    ended_at: isoOrNull(a.endedAt),
    exit_code: a.exitCode,
    reason: a.reason,
  };
}

/** A task instance with its attempts, where it sits in the pipeline, and whether it wrote a notebook. */
export const TaskDetailSchema = TaskViewSchema.extend({
  run: z.string(),
  task: z.string(),
  pipeline: z.string(),
  team: z.string().optional().describe("The pipeline's team (API answers)"),
  kind: z.string().nullable().describe("command, python, notebook, spark or kafka_sensor; null when the pinned version is gone"),
  depends_on: z.array(z.string()),
  pool: z.string(),
  max_tries: z.int(),
  has_notebook: z.boolean(),
  spark_ui_url: z.string().optional().describe("The Spark UI of a running spark task with a local master, read from its driver log"),
  yarn_application: z
    .object({
      id: z.string().describe("application_…, as spark-submit logged it"),
      url: z.string().describe("Its page on the ResourceManager of the task's webhdfs connection"),
      spark_ui_url: z.string().describe("Its tracking URL through the ResourceManager's proxy: the running Spark UI, then the history server's page where the cluster has one"),
    })
    .optional()
    .describe("The YARN application of the current try of a spark task with master yarn"),
  attempts: z.array(AttemptViewSchema),
}).meta({ id: "TaskDetail" });
export type TaskDetail = z.infer<typeof TaskDetailSchema>;

export const RunRefSchema = z.object({ id: z.string(), state: RunStateSchema, logical_date: isoTime }).meta({ id: "RunRef" });

export const PipelineSummarySchema = z
  .object({
    id: z.string(),
    team: z.string(),
    description: z.string().nullable(),
    schedule: z.string().nullable().describe("The schedule as written (cron, preset or interval)"),
    version: z.string(),
    file: z.string(),
    commit: z.string().nullable().describe("The git commit the pipeline was loaded from (pipelines.git); null for a pipeline folder's file"),
    paused: z.boolean(),
    tasks: count,
    last_runs: z.array(RunRefSchema).describe("The latest runs, newest logical date first"),
  })
  .meta({ id: "PipelineSummary" });
export type PipelineSummaryView = z.infer<typeof PipelineSummarySchema>;

export function pipelineSummary(loaded: LoadedPipeline, paused: boolean, lastRuns: readonly Run[]): PipelineSummaryView {
  return {
    id: loaded.spec.id,
    team: loaded.spec.team,
    description: loaded.spec.description ?? null,
    schedule: loaded.spec.schedule?.text ?? null,
    version: loaded.version,
    file: loaded.file,
    commit: checkoutCommitOf(loaded.file),
    paused,
    tasks: loaded.spec.taskOrder.length,
    last_runs: lastRuns.map((r) => ({ id: r.id, state: r.state, logical_date: new Date(r.logicalDate).toISOString() })),
  };
}

/** A declared param of a pipeline, as the trigger form shows it. */
export const ParamSpecSchema = z
  .object({
    type: z.enum(PARAM_TYPES),
    default: z.unknown().optional().describe("Absent when the param is required at trigger time"),
    description: z.string().optional(),
    enum: z.array(z.unknown()).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  })
  .meta({ id: "ParamSpec" });

/** A task of the normalised spec: durations in milliseconds, quantities in cores and bytes. */
export const TaskSpecSchema = z
  .object({
    id: z.string(),
    description: z.string().optional(),
    kind: z.enum(["command", "python", "notebook", "kafka_sensor", "spark"]),
    command: z.union([z.string(), z.array(z.string())]).optional().describe("A list is argv, a string runs with sh -c"),
    python: z.string().optional(),
    args: z.array(z.string()),
    notebook: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()),
    spark: z
      .object({
        application: z.string(),
        mainClass: z.string().optional(),
        master: z.string().optional(),
        connection: z.string().optional(),
        conf: z.record(z.string(), z.string()),
        packages: z.array(z.string()),
        pyFiles: z.array(z.string()),
        driver: z.object({ memory: z.string().optional(), cores: z.number().optional() }),
        executor: z.object({ memory: z.string().optional(), cores: z.number().optional(), instances: z.number().optional() }),
      })
      .optional()
      .describe("What a spark task submits (docs/spark.md)"),
    kernel: z.string().optional(),
    kafkaSensor: z
      .object({ connection: z.string(), topic: z.string(), from: z.enum(["latest", "earliest", "run_start"]), timeoutMs: z.number(), format: z.enum(["json", "text"]), filter: z.object({ key: z.string().optional(), headers: z.record(z.string(), z.string()).optional(), expression: z.string().optional().describe("A CEL expression over the message") }) })
      .optional()
      .describe("What a kafka_sensor task waits for (docs/streams.md)"),
    dependsOn: z.array(z.string()),
    triggerRule: z.enum(TRIGGER_RULES),
    resources: z.object({ cpu: z.number(), memory: z.number(), gpu: z.number() }),
    retries: z.int(),
    retryDelayMs: z.number(),
    retryExponentialBackoff: z.boolean(),
    maxRetryDelayMs: z.number().nullable(),
    timeoutMs: z.number().nullable(),
    pool: z.string(),
    poolSlots: z.number(),
    priorityWeight: z.number(),
    env: z.record(z.string(), z.string()),
    secrets: z.record(z.string(), z.object({ secret: z.string(), key: z.string() })).describe("Environment variables filled from team secrets (names, never values)"),
    cwd: z.string().optional(),
    skipOnExitCodes: z.array(z.int()),
    outputs: z.array(z.string()),
    executor: z.string().optional(),
    cluster: z.string().optional(),
    namespace: z.string().optional(),
    image: z.string().optional(),
    kubernetes: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: "TaskSpec" });

const ScheduleSpecSchema = z.union([
  z.object({ kind: z.literal("cron"), expression: z.string(), text: z.string() }),
  z.object({ kind: z.literal("interval"), everyMs: z.number(), text: z.string() }),
  z.object({ kind: z.literal("once"), text: z.string() }),
]);

/** The normalised pipeline spec (camelCase, as the engine keeps it with each version). */
export const PipelineSpecSchema = z
  .object({
    id: z.string(),
    description: z.string().optional(),
    team: z.string(),
    tags: z.array(z.string()),
    schedule: ScheduleSpecSchema.nullable(),
    timezone: z.string(),
    startDate: z.number().nullable().describe("Epoch milliseconds"),
    endDate: z.number().nullable(),
    catchup: z.boolean(),
    maxActiveRuns: z.int(),
    maxActiveTasks: z.int(),
    params: z.record(z.string(), ParamSpecSchema),
    tasks: z.record(z.string(), TaskSpecSchema),
    taskOrder: z.array(z.string()).describe("Task ids, upstream before downstream"),
  })
  .meta({ id: "PipelineSpec" });

export const PipelineDetailSchema = PipelineSummarySchema.extend({
  spec: PipelineSpecSchema,
  source: z.string().describe("The pipeline file's text"),
  can_edit: z.boolean().describe("Whether the caller may trigger, pause and change this pipeline's runs"),
}).meta({ id: "PipelineDetail" });
export type PipelineDetail = z.infer<typeof PipelineDetailSchema>;

/** A pipeline file that failed to load. */
export const LoadErrorSchema = z
  .object({
    file: z.string(),
    message: z.string(),
    pipeline: z.string().nullable().describe("The pipeline the file held when it last loaded"),
    issues: z.array(z.looseObject({ path: z.array(z.union([z.string(), z.number()])).optional(), message: z.string(), line: z.int().optional(), column: z.int().optional() })),
  })
  .meta({ id: "LoadError" });
export type LoadErrorView = z.infer<typeof LoadErrorSchema>;

export const PipelineListSchema = z.object({ pipelines: z.array(PipelineSummarySchema), errors: z.array(LoadErrorSchema) }).meta({ id: "PipelineList" });
export type PipelineList = z.infer<typeof PipelineListSchema>;

/** A byte range of a try's log. */
export const LogChunkSchema = z
  .object({
    try: count.describe("The try read (0: the task has not started)"),
    text: z.string().describe("The text, with every secret value masked"),
    next: z.int().describe("The offset to ask for next"),
    size: z.int().min(0).describe("The log's size in bytes now"),
    done: z.boolean().describe("The attempt has ended and everything was read"),
  })
  .meta({ id: "LogChunk" });
export type LogChunk = z.infer<typeof LogChunkSchema>;

export const PoolViewSchema = z.object({ name: z.string(), slots: count, description: z.string().nullable(), used: count.describe("Slots taken by queued and running tasks") }).meta({ id: "Pool" });
export type PoolView = z.infer<typeof PoolViewSchema>;

/** A secret as the API shows it: names and keys, never values. */
export const SecretSummarySchema = z.object({ team: z.string(), name: z.string(), keys: z.array(z.string()), updated_at: isoTime }).meta({ id: "SecretSummary" });
export type SecretSummary = z.infer<typeof SecretSummarySchema>;

/** The runs × tasks grid of a pipeline: task ids once, per run the states and tries in that order. */
export const GridSchema = z
  .object({
    pipeline: z.string(),
    total: count,
    tasks: z.array(z.object({ id: z.string(), kind: z.string(), depends_on: z.array(z.string()) })),
    runs: z.array(
      z.object({
        id: z.string(),
        state: RunStateSchema,
        trigger: RunTriggerSchema,
        version: z.string(),
        logical_date: isoTime,
        started_at: isoTimeOrNull,
        ended_at: isoTimeOrNull,
        states: z.array(z.union([TaskStateSchema, z.literal("")])).describe('One per task of `tasks`; "" where the run has no such task (another version)'),
        tries: z.array(count),
      }),
    ),
  })
  .meta({ id: "Grid" });
export type GridView = z.infer<typeof GridSchema>;
