/**
 * The command of a `spark:` task for an executor that runs it as a process here: the venv's
 * spark-submit with the task's master (the cluster masters submit from here too), and the
 * environment it needs. A Kubernetes master in cluster mode is not built (docs/spark.md).
 */
import { findSparkInstall, noSparkMessage, resolveSparkMaster, sparkEnv, sparkSubmitArgv } from "../spark/index.js";
import type { TaskSpec } from "../pipelines/index.js";
import { LaunchError } from "./executor.js";
import type { TaskCommand, TaskCommandOptions } from "./task-command.js";

/** The file in the attempt's folder that marks a spark-submit attempt (its driver log is read at the end). */
export const SPARK_SUBMIT_FILE = "spark-submit.json";

export function sparkTaskCommand(task: TaskSpec, options: TaskCommandOptions): TaskCommand {
  const spark = task.spark;
  if (spark === undefined) throw new LaunchError(`task ${task.id} is a spark task without its spark: field`, { retryable: false });
  if (options.pathStyle === "posix") {
    throw new LaunchError(`task ${task.id}: a spark task runs on the local executor; as a pod (master k8s, cluster mode) it is not built yet (docs/spark.md)`, { retryable: false });
  }
  const env = options.env ?? {};
  const master = resolveSparkMaster(spark, env);
  if (master === "k8s" || master.startsWith("k8s://")) {
    throw new LaunchError(`task ${task.id}: master ${master} (cluster mode on Kubernetes) is not built yet; use local[N] (docs/spark.md)`, { retryable: false });
  }
  const install = findSparkInstall(options.python);
  if (install === null) throw new LaunchError(`task ${task.id}: ${noSparkMessage(options.python)}`, { retryable: false });
  const argv = sparkSubmitArgv(spark, { sparkSubmit: install.sparkSubmit, baseDir: options.baseDir, master, appName: task.id, args: task.args });
  return {
    argv,
    files: { [SPARK_SUBMIT_FILE]: `${JSON.stringify({ master })}\n` },
    outputs: {},
    env: sparkEnv({ ...task.env, ...env }, { sparkHome: install.sparkHome, python: options.python }, master),
  };
}
