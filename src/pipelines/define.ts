/**
 * Helpers for pipelines written in TypeScript. `pipeline()` returns the definition unchanged; its
 * value is the type checking and completion it gives the author. The definition uses the same
 * names as YAML files, so the two formats are one model.
 */
import type { PipelineDefinition, TaskDefinition } from "./spec-schema.js";

/** Declares a pipeline; `export default pipeline({...})` from a file under pipelines/. */
export function pipeline<T extends PipelineDefinition>(definition: T): T {
  return definition;
}

/** Declares one task, for building task maps in code. */
export function task<T extends TaskDefinition>(definition: T): T {
  return definition;
}
