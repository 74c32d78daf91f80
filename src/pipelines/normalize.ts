/**
 * From a pipeline as written (already shape-checked by the zod schema) to the engine's model:
 * defaults merged into tasks, one task kind per task, dependencies and cycles checked, schedule,
 * timezone and dates parsed, templates checked against params and upstream tasks.
 */
import { DateTime } from "luxon";
import { parseCpu, parseDuration, parseMemory } from "../units/index.js";
import { Dag } from "./dag.js";
import { IssueList, type FieldPath } from "./errors.js";
import { DEFAULT_POOL, DEFAULT_TEAM, type KafkaSensorSpec, type KafkaTriggerSpec, type ModelRegistrationSpec, type ParamSpec, type PipelineSpec, type TaskKind, type TaskSpec } from "./model.js";
import { normalizeParam } from "./params.js";
import { isValidTimezone, parseSchedule, type ScheduleSpec } from "./schedule-spec.js";
import type { RawPipeline, RawTask } from "./spec-schema.js";
import { checkTemplate, forEachString } from "./templating.js";
import { normalizeSparkTask } from "./spark-task.js";
import { triggerFilterProblem } from "./trigger-filter.js";
import { pathScheme, volumePath } from "../notebooks/locations/index.js";
import { ALIAS_HINT, ALIAS_PATTERN, MODEL_NAME_HINT, MODEL_NAME_PATTERN } from "../models/name-patterns.js";

const TASK_KINDS: readonly TaskKind[] = ["command", "python", "notebook", "kafka_sensor", "spark"];
/** A sensor waits a week unless told otherwise, as Airflow's sensors do. */
const DEFAULT_SENSOR_TIMEOUT_MS = 7 * 24 * 3_600_000;
/** What a sensor's attempt gives downstream tasks as {{ tasks.ID.outputs.KEY }}. */
const SENSOR_OUTPUTS = ["topic", "partition", "offset", "timestamp", "key", "value", "headers"];

/** Airflow's defaults for the limits a pipeline may leave out. */
const DEFAULT_MAX_ACTIVE_RUNS = 16;
const DEFAULT_MAX_ACTIVE_TASKS = 16;

/** Normalises a shape-checked pipeline; collects every problem into `issues`. */
export function normalizePipeline(raw: RawPipeline, issues: IssueList): PipelineSpec {
  const timezone = raw.timezone ?? "UTC";
  if (!isValidTimezone(timezone)) {
    issues.add(["timezone"], `unknown timezone ${JSON.stringify(timezone)}; expected an IANA name such as UTC, Europe/Berlin or Asia/Seoul`);
  }
  const zone = isValidTimezone(timezone) ? timezone : "UTC";

  let schedule: ScheduleSpec | null = null;
  if (raw.schedule !== undefined && raw.schedule !== null && raw.schedule.trim() !== "") {
    try {
      schedule = parseSchedule(raw.schedule, zone);
    } catch (error) {
      issues.add(["schedule"], (error as Error).message);
    }
  }

  const startDate = raw.start_date === undefined ? null : parseDate(raw.start_date, zone, ["start_date"], issues);
  const endDate = raw.end_date === undefined ? null : parseDate(raw.end_date, zone, ["end_date"], issues);
  if (schedule && startDate === null && raw.start_date === undefined) {
    issues.add(["start_date"], "a scheduled pipeline needs start_date (the first data interval starts there), e.g. start_date: 2026-01-01");
  }
  if (startDate !== null && endDate !== null && endDate < startDate) {
    issues.add(["end_date"], "end_date is before start_date");
  }

  const params: Record<string, ParamSpec> = {};
  for (const [name, rawParam] of Object.entries(raw.params ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      issues.add(["params", name], "param names are identifiers: letters, digits and '_', not starting with a digit");
    }
    params[name] = normalizeParam(rawParam, ["params", name], issues);
    if (schedule && params[name].default === undefined) {
      issues.add(["params", name], "a scheduled pipeline needs a default for every param (scheduled runs have no one to supply it)");
    }
  }

  const tasks: Record<string, TaskSpec> = {};
  for (const [id, rawTask] of Object.entries(raw.tasks)) {
    tasks[id] = normalizeTask(id, { ...raw.defaults, ...rawTask }, raw, ["tasks", id], issues);
  }

  const dag = new Dag(Object.fromEntries(Object.entries(tasks).map(([id, t]) => [id, t.dependsOn])));
  const cycle = Object.values(tasks).every((t) => t.dependsOn.every((d) => d in tasks)) ? dag.findCycle() : undefined;
  if (cycle) {
    const shown = cycle.length > 21 ? [...cycle.slice(0, 10), `… ${cycle.length - 21} more …`, ...cycle.slice(-11)] : cycle;
    issues.add(["tasks", cycle[0] ?? "", "depends_on"], `dependency cycle: ${shown.join(" → ")}`);
  } else {
    // A pipeline with triggers reads its batch as {{ params.kafka }} (docs/streams.md).
    const paramNames = raw.triggers !== undefined && raw.triggers.length > 0 ? [...Object.keys(params), "kafka"] : Object.keys(params);
    for (const task of Object.values(tasks)) checkModelRegistration(task, dag, issues);
    for (const task of Object.values(tasks)) {
      checkTaskTemplates(task, raw.tasks[task.id] ?? {}, raw, paramNames, dag, issues);
    }
  }

  return {
    id: raw.id,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    team: raw.team ?? DEFAULT_TEAM,
    tags: raw.tags ?? [],
    schedule,
    timezone: zone,
    startDate,
    endDate,
    catchup: raw.catchup ?? false,
    maxActiveRuns: raw.max_active_runs ?? DEFAULT_MAX_ACTIVE_RUNS,
    maxActiveTasks: raw.max_active_tasks ?? DEFAULT_MAX_ACTIVE_TASKS,
    params,
    tasks,
    taskOrder: cycle ? Object.keys(tasks) : dag.topologicalOrder(),
    ...(raw.triggers !== undefined && raw.triggers.length > 0 ? { triggers: normalizeTriggers(raw.triggers, issues) } : {}),
  };
}

function normalizeTriggers(raw: NonNullable<RawPipeline["triggers"]>, issues: IssueList): KafkaTriggerSpec[] {
  const seen = new Set<string>();
  return raw.map((t, index) => {
    const key = `${t.kafka.connection}/${t.kafka.topic}/${t.kafka.group}`;
    if (seen.has(key)) issues.add(["triggers", index, "kafka"], `the same connection, topic and group are named twice; keep one`);
    seen.add(key);
    const maxWaitMs = t.kafka.batch?.max_wait !== undefined ? (parseDuration(t.kafka.batch.max_wait) ?? 0) : 1_000;
    if (maxWaitMs <= 0) issues.add(["triggers", index, "kafka", "batch", "max_wait"], "batch.max_wait must be longer than 0");
    const filterProblem = t.kafka.filter === undefined ? undefined : triggerFilterProblem(t.kafka.filter);
    if (filterProblem !== undefined) issues.add(["triggers", index, "kafka", "filter"], filterProblem);
    return {
      kind: "kafka",
      connection: t.kafka.connection,
      topic: t.kafka.topic,
      group: t.kafka.group,
      format: t.kafka.format ?? "json",
      maxMessages: t.kafka.batch?.max_messages ?? 100,
      maxWaitMs,
      ...(t.kafka.filter !== undefined ? { filter: t.kafka.filter } : {}),
    };
  });
}

function parseDate(value: string | Date, zone: string, path: FieldPath, issues: IssueList): number | null {
  if (value instanceof Date) return value.getTime();
  const parsed = DateTime.fromISO(value.trim(), { zone });
  if (!parsed.isValid) {
    issues.add(path, `${JSON.stringify(value)} is not a date; expected YYYY-MM-DD or an ISO date-time such as 2026-01-01T03:00:00`);
    return null;
  }
  return parsed.toMillis();
}

/** The task ids of a pipeline for a message: all of a small pipeline, the first 20 of a large one. */
function listTaskIds(tasks: Record<string, unknown>): string {
  const ids: string[] = [];
  let count = 0;
  for (const id in tasks) {
    if (count++ < 20) ids.push(id);
  }
  return count > 20 ? `${ids.join(", ")} and ${count - 20} more` : ids.join(", ");
}

function normalizeTask(id: string, t: RawTask, raw: RawPipeline, path: FieldPath, issues: IssueList): TaskSpec {
  const kinds = TASK_KINDS.filter((k) => t[k] !== undefined);
  if (kinds.length === 0) {
    issues.add(path, "a task needs exactly one of command, python, notebook, spark or kafka_sensor");
  } else if (kinds.length > 1) {
    const accepted = kinds.includes("kafka_sensor") ? "command, python, notebook or kafka_sensor" : "command, python or notebook";
    issues.add([...path, kinds[1] ?? ""], `a task has exactly one of ${accepted}; this one has ${kinds.join(" and ")}`);
  }
  const kind: TaskKind = kinds[0] ?? "command";
  if (t.args !== undefined && kind !== "python" && kind !== "spark") issues.add([...path, "args"], "args belong to python and spark tasks (command lists carry their own arguments)");
  if (t.parameters !== undefined && kind !== "notebook") issues.add([...path, "parameters"], "parameters belong to notebook tasks");
  const notebookScheme = t.notebook === undefined ? undefined : pathScheme(t.notebook);
  if (notebookScheme !== undefined && !["http", "https", "s3", "s3n"].includes(notebookScheme)) {
    issues.add([...path, "notebook"], `${notebookScheme}:// notebooks cannot be read here; give a path relative to the pipeline file, an http(s):// URL or an s3:// URL`);
  } else if (t.notebook !== undefined && volumePath(t.notebook) !== undefined) {
    issues.add(
      [...path, "notebook"],
      `a notebook task cannot read VOLUME:PATH notebooks yet (only \`capstan notebook run\` can); give a path relative to the pipeline file (a file whose name holds ':' as ./${t.notebook}), an http(s):// URL or an s3:// URL`,
    );
  }

  const dependsOn = t.depends_on === undefined ? [] : typeof t.depends_on === "string" ? [t.depends_on] : [...t.depends_on];
  dependsOn.forEach((up, i) => {
    const where = typeof t.depends_on === "string" ? [...path, "depends_on"] : [...path, "depends_on", i];
    if (!(up in raw.tasks)) {
      issues.add(where, `unknown upstream task ${JSON.stringify(up)}; tasks in this pipeline: ${listTaskIds(raw.tasks)}`);
    } else if (up === id) {
      issues.add(where, "a task cannot depend on itself");
    }
  });
  if (new Set(dependsOn).size !== dependsOn.length) issues.add([...path, "depends_on"], "an upstream task is listed twice");

  const kafkaSensor = t.kafka_sensor === undefined ? undefined : normalizeKafkaSensor(t.kafka_sensor, [...path, "kafka_sensor"], issues);
  if (kafkaSensor && raw.tasks[id]?.pool_slots !== undefined) issues.add([...path, "pool_slots"], "a kafka_sensor holds no pool slot while it waits (the platform consumes, no process runs); leave pool_slots out");
  const skip = t.skip_on_exit_code;
  const task: TaskSpec = {
    id,
    kind,
    args: t.args ?? [],
    parameters: t.parameters ?? {},
    dependsOn,
    triggerRule: t.trigger_rule ?? "all_success",
    resources: {
      cpu: t.resources?.cpu !== undefined ? (parseCpu(t.resources.cpu) ?? 0) : 0,
      memory: t.resources?.memory !== undefined ? (parseMemory(t.resources.memory) ?? 0) : 0,
      gpu: t.resources?.gpu ?? 0,
    },
    retries: t.retries ?? 0,
    retryDelayMs: t.retry_delay !== undefined ? (parseDuration(t.retry_delay) ?? 0) : 300_000,
    retryExponentialBackoff: t.retry_exponential_backoff ?? false,
    maxRetryDelayMs: t.max_retry_delay !== undefined ? (parseDuration(t.max_retry_delay) ?? null) : null,
    timeoutMs: t.timeout !== undefined ? (parseDuration(t.timeout) ?? null) : null,
    pool: t.pool ?? DEFAULT_POOL,
    poolSlots: kafkaSensor ? 0 : (t.pool_slots ?? 1),
    priorityWeight: t.priority_weight ?? 1,
    env: Object.fromEntries(Object.entries(t.env ?? {}).map(([k, v]) => [k, String(v)])),
    secrets: normalizeSecretRefs(t.secrets ?? {}, [...path, "secrets"], issues),
    ...(t.connections !== undefined && t.connections.length > 0 ? { connections: [...new Set(t.connections)] } : {}),
    skipOnExitCodes: skip === undefined ? [] : Array.isArray(skip) ? skip : [skip],
    outputs: kafkaSensor ? [...SENSOR_OUTPUTS] : (t.outputs ?? []),
    ...(kafkaSensor ? { kafkaSensor } : {}),
  };
  if (t.spark !== undefined) {
    task.spark = normalizeSparkTask(t.spark, [...path, "spark"], issues);
    // The task gets its connection's settings (a spark master, a Hadoop configuration) like any listed connection.
    const connection = task.spark.connection;
    if (connection !== undefined && !(task.connections ?? []).includes(connection)) task.connections = [...(task.connections ?? []), connection];
    // local[N] uses N cores of this machine: reserved like a command's resources.cpu unless the task says otherwise.
    const cores = /^local\[(\d+)\]$/.exec(task.spark.master ?? "")?.[1];
    if (cores !== undefined && t.resources?.cpu === undefined) task.resources.cpu = Number(cores);
  }
  if (task.timeoutMs === 0) issues.add([...path, "timeout"], "timeout must be longer than 0; leave it out for no timeout");
  for (const name of Object.keys(task.secrets)) {
    if (name in task.env) issues.add([...path, "secrets", name], `${name} is set both in env and in secrets; keep one`);
  }
  for (const name of [...Object.keys(task.env), ...Object.keys(task.secrets)]) {
    const field = name in task.env ? "env" : "secrets";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) issues.add([...path, field, name], "environment variable names are letters, digits and '_', not starting with a digit");
    if (name.startsWith("CAPSTAN_")) issues.add([...path, field, name], "CAPSTAN_* variables are set by Capstan for every task and cannot be overridden");
  }
  // Commands, paths and env values reach a process as argv or environment, which cannot hold NUL.
  const executed = { command: t.command, args: t.args, env: t.env, python: t.python, notebook: t.notebook, spark: t.spark, cwd: t.cwd, kernel: t.kernel, image: t.image, namespace: t.namespace };
  for (const [name, value] of Object.entries(executed)) {
    forEachString(value, [...path, name], (text, where) => {
      if (text.includes("\0")) issues.add(where, `contains a NUL byte (U+0000), which a command line, path or environment variable cannot hold`);
    });
  }
  const optional = {
    description: t.description,
    command: t.command,
    python: t.python,
    notebook: t.notebook,
    kernel: t.kernel,
    cwd: t.cwd,
    executor: t.executor,
    cluster: t.cluster,
    namespace: t.namespace,
    image: t.image,
    kubernetes: t.kubernetes,
    registerModel: t.register_model === undefined ? undefined : normalizeModelRegistration(id, t.register_model, [...path, "register_model"], issues),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (task as unknown as Record<string, unknown>)[key] = value;
  }
  return task;
}

function normalizeKafkaSensor(raw: NonNullable<RawTask["kafka_sensor"]>, path: FieldPath, issues: IssueList): KafkaSensorSpec {
  const timeoutMs = raw.timeout !== undefined ? (parseDuration(raw.timeout) ?? 0) : DEFAULT_SENSOR_TIMEOUT_MS;
  if (timeoutMs <= 0) issues.add([...path, "timeout"], "kafka_sensor.timeout must be longer than 0, e.g. 10m");
  const filter: KafkaSensorSpec["filter"] = {};
  if (typeof raw.filter === "string") {
    const problem = triggerFilterProblem(raw.filter);
    if (problem !== undefined) issues.add([...path, "filter"], problem);
    filter.expression = raw.filter;
  } else {
    if (raw.filter?.key !== undefined) filter.key = raw.filter.key;
    if (raw.filter?.headers !== undefined) filter.headers = { ...raw.filter.headers };
  }
  return { connection: raw.connection, topic: raw.topic, from: raw.from ?? "latest", timeoutMs, format: raw.format ?? "json", filter };
}

function normalizeModelRegistration(id: string, raw: NonNullable<RawTask["register_model"]>, path: FieldPath, issues: IssueList): ModelRegistrationSpec {
  if (!MODEL_NAME_PATTERN.test(raw.name)) issues.add([...path, "name"], `${JSON.stringify(raw.name)} is not a model name; use ${MODEL_NAME_HINT}`);
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/.test(raw.output)) issues.add([...path, "output"], `${JSON.stringify(raw.output)} is not an output key; name the key the task writes to $CAPSTAN_OUTPUT, e.g. model_dir`);
  if (raw.alias !== undefined && !ALIAS_PATTERN.test(raw.alias)) issues.add([...path, "alias"], `${JSON.stringify(raw.alias)} is not an alias name; use ${ALIAS_HINT}`);
  return { name: raw.name, output: raw.output, ...(raw.alias !== undefined ? { alias: raw.alias } : {}), metricsFrom: raw.metrics_from ?? id };
}

/** The task of `metrics_from` has ended when the registering task succeeds: itself or one of its upstreams. */
function checkModelRegistration(task: TaskSpec, dag: Dag, issues: IssueList): void {
  const from = task.registerModel?.metricsFrom;
  if (from === undefined || from === task.id || dag.isAncestor(from, task.id)) return;
  issues.add(["tasks", task.id, "register_model", "metrics_from"], `${JSON.stringify(from)} is not this task or one of its upstream tasks; metrics are read from a task that has ended when this one succeeds`);
}

function normalizeSecretRefs(raw: NonNullable<RawTask["secrets"]>, path: FieldPath, issues: IssueList): Record<string, { secret: string; key: string }> {
  const refs: Record<string, { secret: string; key: string }> = {};
  for (const [name, ref] of Object.entries(raw)) {
    if (typeof ref === "string") {
      const slash = ref.indexOf("/");
      if (slash <= 0 || slash === ref.length - 1) {
        issues.add([...path, name], `${JSON.stringify(ref)} is not a secret reference; write "secret-name/key" or { secret: name, key: key }`);
        continue;
      }
      refs[name] = { secret: ref.slice(0, slash), key: ref.slice(slash + 1) };
    } else {
      refs[name] = ref;
    }
  }
  return refs;
}

function checkTaskTemplates(task: TaskSpec, written: RawTask, raw: RawPipeline, params: string[], dag: Dag, issues: IssueList): void {
  // Upstreams are searched only for the task outputs a template reads, not listed for every task.
  const scope = { params, isUpstream: (id: string) => dag.isAncestor(id, task.id), upstreamTasks: () => [...dag.ancestors(task.id)] };
  const fields: Record<string, unknown> = {
    command: task.command,
    python: task.python,
    args: task.args,
    notebook: task.notebook,
    spark: task.spark,
    parameters: task.parameters,
    kernel: task.kernel,
    env: task.env,
    cwd: task.cwd,
    image: task.image,
    namespace: task.namespace,
  };
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    // A field inherited from `defaults:` is reported where it is written.
    const base: FieldPath = field in written || !(raw.defaults && field in raw.defaults) ? ["tasks", task.id, field] : ["defaults", field];
    forEachString(value, [...base], (text, path) => {
      const problem = checkTemplate(text, scope);
      if (problem) issues.add(path, `task ${task.id}: ${problem}`);
    });
  }
}
