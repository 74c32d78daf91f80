/**
 * The environment of an attempt, in one place: the run context every task receives
 * (CAPSTAN_RUN_ID, CAPSTAN_OUTPUT, …), how it is layered over the task's own env and the team's
 * secrets, and what a local process gets on top (the platform's base environment, the attempt
 * token, notebook settings). Platform credentials are never part of it.
 */
import { DateTime } from "luxon";
import type { AttemptLaunch } from "./executor.js";

/** The facts of an attempt that its CAPSTAN_* variables carry. */
export interface RunContextFacts {
  runId: string;
  taskId: string;
  tryNumber: number;
  pipelineId: string;
  pipelineVersion: string;
  /** The pipeline's timezone: CAPSTAN_DS is the logical date's day there. */
  timezone: string;
  logicalDate: number;
  /** Null for runs without a data interval: the logical date stands in. */
  dataIntervalStart: number | null;
  dataIntervalEnd: number | null;
  /** Where the task writes its JSON outputs. */
  outputPath: string;
  /** The run's shared folder for large artifacts. */
  artifactsDir: string;
}

/** An instant as ISO 8601 in UTC, without milliseconds when they are zero. */
export function isoInstant(ms: number): string {
  return DateTime.fromMillis(ms, { zone: "utc" }).toISO({ suppressMilliseconds: true }) ?? new Date(ms).toISOString();
}

/** The CAPSTAN_* variables of an attempt's run context. */
export function runContextEnv(facts: RunContextFacts): Record<string, string> {
  return {
    CAPSTAN_RUN_ID: facts.runId,
    CAPSTAN_TASK_ID: facts.taskId,
    CAPSTAN_TRY: String(facts.tryNumber),
    CAPSTAN_OUTPUT: facts.outputPath,
    CAPSTAN_PIPELINE_ID: facts.pipelineId,
    CAPSTAN_PIPELINE_VERSION: facts.pipelineVersion,
    CAPSTAN_LOGICAL_DATE: isoInstant(facts.logicalDate),
    CAPSTAN_DATA_INTERVAL_START: isoInstant(facts.dataIntervalStart ?? facts.logicalDate),
    CAPSTAN_DATA_INTERVAL_END: isoInstant(facts.dataIntervalEnd ?? facts.logicalDate),
    CAPSTAN_DS: DateTime.fromMillis(facts.logicalDate, { zone: facts.timezone }).toFormat("yyyy-MM-dd"),
    CAPSTAN_ARTIFACTS_DIR: facts.artifactsDir,
  };
}

/** The environment of a launch (`AttemptLaunch.env` and `secretEnv`). */
export interface LaunchEnv {
  env: Record<string, string>;
  /** The names in `env` whose values are the team's secrets. */
  secretNames: string[];
}

/**
 * The environment an attempt is launched with: the task's (rendered) env, then its secrets, then
 * the run context, which nothing overrides.
 */
export function launchEnv(parts: { taskEnv: Record<string, string>; secretEnv: Record<string, string>; runContext: Record<string, string> }): LaunchEnv {
  const { taskEnv, secretEnv, runContext } = parts;
  return {
    env: { ...taskEnv, ...secretEnv, ...runContext },
    secretNames: Object.keys(secretEnv).filter((name) => !(name in runContext)),
  };
}

/** What a local process of an attempt starts with, besides the launch's own environment. */
export interface LocalEnvOptions {
  /** Environment every task starts from (platform secrets removed by the caller). */
  baseEnv: Record<string, string>;
  /** Extra environment for notebook tasks (kernel pool folder, interpreter). */
  notebookEnv?: Record<string, string>;
}

/**
 * The environment of an attempt's local process: the base environment, the launch's, the attempt
 * token (by which its processes are found again) and unbuffered Python output; notebook tasks get
 * the notebook settings on top.
 */
export function localProcessEnv(launch: Pick<AttemptLaunch, "env" | "token" | "task">, options: LocalEnvOptions): Record<string, string> {
  const env: Record<string, string> = { ...options.baseEnv, ...launch.env, CAPSTAN_ATTEMPT_TOKEN: launch.token, PYTHONUNBUFFERED: "1" };
  if (launch.task.kind === "notebook") Object.assign(env, options.notebookEnv);
  return env;
}
