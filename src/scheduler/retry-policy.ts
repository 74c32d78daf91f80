/** When a failed attempt is retried, and after how long. */
import type { TaskSpec } from "../pipelines/index.js";

/**
 * The delay before the retry that follows attempt `tryNumber` (1-based): the task's retry_delay,
 * doubled per attempt with exponential backoff, and capped by max_retry_delay.
 */
export function retryDelayMs(task: Pick<TaskSpec, "retryDelayMs" | "retryExponentialBackoff" | "maxRetryDelayMs">, tryNumber: number): number {
  let delay = task.retryDelayMs;
  if (task.retryExponentialBackoff) delay = task.retryDelayMs * 2 ** Math.max(0, tryNumber - 1);
  if (task.maxRetryDelayMs !== null) delay = Math.min(delay, task.maxRetryDelayMs);
  return Math.min(delay, 365 * 86_400_000);
}
