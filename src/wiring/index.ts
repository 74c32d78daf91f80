/** Wiring: the running platform assembled from a configuration (store, pipelines, executors, scheduler), the home's private files and its scheduler lock. */
export { Platform, capstanCommand, taskBaseEnv, type OpenPlatformOptions } from "./platform.js";
export { openVolumes } from "./volumes.js";
export { acquireSchedulerLock, readSchedulerLock, SchedulerRunningError, type SchedulerLockInfo } from "./scheduler-lock.js";
