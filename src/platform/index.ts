/** The assembled platform (store, pipelines, executors, scheduler) and the per-home scheduler lock. */
export { Platform, capstanCommand, taskBaseEnv, type OpenPlatformOptions } from "./platform.js";
export { acquireSchedulerLock, readSchedulerLock, SchedulerRunningError, type SchedulerLockInfo } from "./scheduler-lock.js";
export * from "./views.js";
