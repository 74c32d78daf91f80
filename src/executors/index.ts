/** Executors: the interface the scheduler drives, and the argv of a task for any executor. */
export * from "./executor.js";
export { taskCommand, type TaskCommand, type TaskCommandOptions } from "./task-command.js";
