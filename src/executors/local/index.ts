/** The local executor: attempts as detached process groups on this machine. */
import { availableParallelism, totalmem } from "node:os";
import { discoverGpus } from "./gpus.js";
import type { Logger } from "pino";
import { describeContainment, detectContainment } from "./containment.js";
import { LocalExecutor, type LocalExecutorOptions } from "./local-executor.js";
import { DirectStarter, PythonStarter } from "./process-starter.js";

export { DEFAULT_MAX_LOG_BYTES, LocalExecutor, type LocalExecutorOptions } from "./local-executor.js";
export { detectContainment, type Containment } from "./containment.js";
export { discoverGpus, type LocalGpu } from "./gpus.js";
export { DirectStarter, PythonStarter, type ProcessStarter, type StarterKind } from "./process-starter.js";
export type { Capacity } from "./resource-slots.js";

export interface LocalCapacityOptions {
  parallelism?: number;
  cpu?: number;
  memory?: number;
  /** GPU indices to use; discovered with nvidia-smi when absent. */
  gpus?: number[];
  /** Largest log of one attempt in bytes (`local.max_log_bytes`); 0 for no cap. */
  maxLogBytes?: number;
}

/**
 * Builds a local executor with this machine's capacity (GPUs found by nvidia-smi). Tasks are started
 * by the Python launcher when `launcherPython` runs it, else by Node's spawn.
 */
export async function createLocalExecutor(
  capacity: LocalCapacityOptions,
  options: Omit<LocalExecutorOptions, "capacity" | "starter"> & { launcherPython: string | null; logger: Logger },
): Promise<LocalExecutor> {
  const { launcherPython, logger, ...rest } = options;
  const starter = (launcherPython ? await PythonStarter.create(launcherPython, logger) : undefined) ?? new DirectStarter();
  const containment = rest.containment ?? detectContainment();
  logger.info({ starter: starter.kind, containment: containment.kind }, describeContainment(containment, starter.subreaper));
  let gpus = capacity.gpus;
  let gpuNote = gpus === undefined ? "" : `${gpus.length} GPU(s) configured`;
  if (gpus === undefined) {
    const found = await discoverGpus();
    gpus = found.gpus.map((g) => g.index);
    gpuNote = found.note;
  }
  return new LocalExecutor({
    ...rest,
    ...(capacity.maxLogBytes !== undefined ? { maxLogBytes: capacity.maxLogBytes } : {}),
    containment,
    starter,
    capacity: {
      parallelism: capacity.parallelism ?? 32,
      cpu: capacity.cpu ?? availableParallelism(),
      memory: capacity.memory ?? totalmem(),
      gpus,
      gpuNote,
    },
  });
}
export { isProcessAlive, pidsWithToken, processStartTime } from "./process-info.js";
export { signalByToken } from "./containment.js";
