/** Pipeline files: the format, loading and validation, the task graph, templating and params. */
export type { KafkaSensorSpec, KafkaTriggerSpec, LoadedPipeline, ModelRegistrationSpec, ParamSpec, PipelineSpec, SparkTaskSpec, TaskKind, TaskResources, TaskSpec } from "./model.js";
export { DEFAULT_POOL, DEFAULT_TEAM } from "./model.js";
export type { PipelineDefinition, TaskDefinition, TriggerRule } from "./spec-schema.js";
export { PARAM_TYPES, TRIGGER_RULES } from "./spec-schema.js";
export { PipelineFileError, formatIssue, formatPath, type ValidationIssue } from "./errors.js";
export { loadPipelineFile } from "./load-file.js";
export { loadYamlPipeline } from "./load-yaml.js";
export { validateDefinition, type SpecCheck } from "./validate.js";
export { renderSparkTask, SPARK_MASTER_HINT } from "./spark-task.js";
export { PipelineRegistry, type RegistryChange } from "./registry.js";
export { Dag } from "./dag.js";
// The units pipeline files are written in (their room is src/units/), for callers that read the model.
export { parseDuration, formatDuration, parseCpu, parseMemory, formatMemory } from "../units/index.js";
export { ParamError, coerceParamText, resolveParams } from "./params.js";
export { TemplateError, renderShellCommand, renderTemplate, renderValue, SHELL_TEMPLATE_PREFIX, type ShellRendering, type TemplateContext } from "./templating.js";
export type { ScheduleSpec } from "./schedule-spec.js";
export { pipeline, task } from "./define.js";
export { MAX_TRIGGER_FILTER_LENGTH, TRIGGER_FILTER_LIMITS, TRIGGER_FILTER_VARIABLES, triggerFilterProblem } from "./trigger-filter.js";
