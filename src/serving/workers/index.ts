/** Model workers: Python processes, their framed channel, the bounded batching queue and the pools per model version. */
export { WorkerPool, DEFAULT_BACKOFF_MS, type WorkerPoolOptions, type WorkerView } from "./worker-pool.js";
export { ModelWorker, WorkerLoadError, residentBytes, PYTHON_SOURCE_DIR, type WorkerLoadSpec } from "./model-worker.js";
export type { InferenceJob, JobInput, JobResponder, WorkerAnswer } from "./inference-job.js";
