/**
 * The run context of an attempt: the template values, the rendered task, and the facts its
 * CAPSTAN_* environment carries (the environment itself is built by executors/attempt-env.ts).
 */
import { DateTime } from "luxon";
import { isoInstant as iso, type RunContextFacts } from "../executors/attempt-env.js";
import { renderShellCommand, renderSparkTask, renderTemplate, renderValue, type PipelineSpec, type TaskSpec, type TemplateContext } from "../pipelines/index.js";
import { PyFloat } from "../notebooks/values/py-float.js";
import type { Run } from "../store/index.js";

export interface AttemptContextInput {
  spec: PipelineSpec;
  version: string;
  run: Run;
  task: TaskSpec;
  tryNumber: number;
  outputPath: string;
  artifactsDir: string;
  /** Outputs of the upstream tasks the task's templates read. */
  upstreamOutputs: Record<string, Record<string, unknown> | undefined>;
}

/** The values of the template names for one attempt. */
export function templateContext(input: AttemptContextInput): TemplateContext {
  const { run, spec } = input;
  const local = DateTime.fromMillis(run.logicalDate, { zone: spec.timezone });
  const utc = DateTime.fromMillis(run.logicalDate, { zone: "utc" });
  const ds = local.toFormat("yyyy-MM-dd");
  return {
    values: {
      ds,
      ds_nodash: ds.replaceAll("-", ""),
      ts: utc.toFormat("yyyy-MM-dd'T'HH:mm:ssZZ"),
      ts_nodash: utc.toFormat("yyyyMMdd'T'HHmmss"),
      logical_date: iso(run.logicalDate),
      data_interval_start: iso(run.dataIntervalStart ?? run.logicalDate),
      data_interval_end: iso(run.dataIntervalEnd ?? run.logicalDate),
      run_id: run.id,
      pipeline_id: spec.id,
      task_id: input.task.id,
      try_number: input.tryNumber,
      artifacts_dir: input.artifactsDir,
    },
    params: run.params,
    outputs: input.upstreamOutputs,
    floatParams: new Set(Object.entries(spec.params).filter(([, p]) => p.type === "number").map(([name]) => name)),
  };
}

const ONE_PARAM = /^\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/**
 * Renders notebook parameters. A value that is exactly `{{ params.NAME }}` of a param declared
 * `number` becomes a PyFloat, so `1.0` reaches the notebook as `1.0` (papermill's float), not `1`.
 */
function renderParameters(value: unknown, context: TemplateContext): unknown {
  if (typeof value === "string") {
    const rendered = renderValue(value, context);
    const name = ONE_PARAM.exec(value)?.[1];
    return name !== undefined && context.floatParams?.has(name) && typeof rendered === "number" ? new PyFloat(rendered) : rendered;
  }
  if (Array.isArray(value)) return value.map((item) => renderParameters(item, context));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderParameters(v, context)]));
  }
  return value;
}

/**
 * The task with every templated field filled in. Throws TemplateError naming the field. A command
 * string (run with `sh -c`) gets references to CAPSTAN_TEMPLATE_N variables in place of its
 * templates, and those variables join the task's env, so every executor passes them on; list
 * commands, args and paths get the values themselves (each is one argv element, never parsed).
 */
export function renderTask(task: TaskSpec, context: TemplateContext): TaskSpec {
  const field = <T, R = T>(name: string, value: T, render: (v: T) => R): R => {
    try {
      return render(value);
    } catch (error) {
      (error as Error).message = `task ${task.id}: field ${name}: ${(error as Error).message}`;
      throw error;
    }
  };
  const text = (name: string, value: string | undefined) => (value === undefined ? undefined : field(name, value, (v) => renderTemplate(v, context)));
  const rendered: TaskSpec = { ...task };
  let shellEnv: Record<string, string> = {};
  if (typeof task.command === "string") {
    const shell = field("command", task.command, (v) => renderShellCommand(v, context));
    rendered.command = shell.command;
    shellEnv = shell.env;
  } else if (task.command !== undefined) {
    rendered.command = task.command.map((part, i) => field(`command[${i}]`, part, (v) => renderTemplate(v, context)));
  }
  rendered.args = task.args.map((part, i) => field(`args[${i}]`, part, (v) => renderTemplate(v, context)));
  rendered.parameters = field("parameters", task.parameters, (v) => renderParameters(v, context) as Record<string, unknown>);
  rendered.env = { ...Object.fromEntries(Object.entries(task.env).map(([k, v]) => [k, field(`env.${k}`, v, (x) => renderTemplate(x, context))])), ...shellEnv };
  if (task.spark !== undefined) rendered.spark = renderSparkTask(task.spark, (value, name) => field(name, value, (v) => renderTemplate(v, context)));
  for (const name of ["python", "notebook", "kernel", "cwd", "image", "namespace"] as const) {
    const value = text(name, task[name]);
    if (value !== undefined) rendered[name] = value;
  }
  return rendered;
}

/** The facts of an attempt that its CAPSTAN_* variables carry. */
export function runContextFacts(input: AttemptContextInput): RunContextFacts {
  const { run } = input;
  return {
    runId: run.id,
    taskId: input.task.id,
    tryNumber: input.tryNumber,
    pipelineId: input.spec.id,
    pipelineVersion: input.version,
    timezone: input.spec.timezone,
    logicalDate: run.logicalDate,
    dataIntervalStart: run.dataIntervalStart,
    dataIntervalEnd: run.dataIntervalEnd,
    outputPath: input.outputPath,
    artifactsDir: input.artifactsDir,
  };
}

/** Upstream tasks whose outputs a task's templates read (found by a scan of its fields). */
export function referencedTasks(task: TaskSpec): string[] {
  const found = new Set<string>();
  const scan = (value: unknown): void => {
    if (typeof value === "string") {
      for (const match of value.matchAll(/\{\{\s*tasks\.([A-Za-z0-9_.-]+?)\.outputs\./g)) found.add(match[1] ?? "");
    } else if (Array.isArray(value)) value.forEach(scan);
    else if (value && typeof value === "object") Object.values(value).forEach(scan);
  };
  scan([task.command, task.args, task.parameters, task.env, task.python, task.notebook, task.cwd, task.image, task.kernel, task.namespace]);
  found.delete("");
  return [...found];
}
