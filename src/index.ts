/**
 * The `capstan` package: helpers for writing pipelines in TypeScript.
 *
 * ```ts
 * import { pipeline } from "capstan";
 * export default pipeline({ id: "hello", tasks: { say: { command: ["echo", "hello"] } } });
 * ```
 */
export { pipeline, task } from "./pipelines/define.js";
export type { PipelineDefinition, TaskDefinition, TriggerRule } from "./pipelines/spec-schema.js";
