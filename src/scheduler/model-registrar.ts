/**
 * The hook through which a task's `register_model:` is carried out when the task succeeds. The
 * registry lives outside the scheduler (src/models); the scheduler only calls it in two steps: the
 * checks and the copy of the files before the attempt's end is recorded, and the version's row in
 * the same transaction as that end, so of several schedulers only the one that records the end
 * writes the version.
 */
import type { TaskSpec } from "../pipelines/index.js";
import type { Repositories, Run } from "../store/index.js";
import type { PipelineVersion } from "./pipeline-versions.js";

/** A task that succeeded and declares a model registration. */
export interface TaskRegistrationInput {
  run: Run;
  pipeline: PipelineVersion;
  task: TaskSpec;
  /** The outputs the attempt reported. */
  outputs: Record<string, unknown>;
}

/** A registration checked and copied, waiting for its row; or the reason it cannot happen. */
export type PreparedRegistration =
  | { ok: true; /** Writes the version (or finds the one this run and task already wrote) and moves the alias; answers a failure reason or undefined. */ record(tx: Repositories, now: number): Promise<string | undefined> }
  | { ok: false; reason: string };

/** Registers the model versions tasks declare. */
export interface ModelRegistrar {
  prepare(input: TaskRegistrationInput): Promise<PreparedRegistration>;
}
