/** The scheduler: schedules and data intervals, trigger rules, retries, pools, and the run lifecycle. */
export { Scheduler, type BackfillResult, type SchedulerOptions, type TriggerOptions } from "./scheduler.js";
export type { SchedulerObserver } from "./scheduler-observer.js";
export type { PipelineSource, PipelineVersion } from "./pipeline-versions.js";
export type { ModelRegistrar, PreparedRegistration, TaskRegistrationInput } from "./model-registrar.js";
export type { RunChange, StateChange, TaskChange } from "./task-state.js";
export { ConflictError, InvalidRequestError, NotFoundError } from "./errors.js";
export { nextDataInterval, intervalsBetween, type DataInterval } from "./timetable.js";
export { evaluateTriggerRule, finishedRunState, type TriggerDecision } from "./trigger-rules.js";
export { retryDelayMs } from "./retry-policy.js";
export { runArtifactsDir } from "./attempt-layout.js";
