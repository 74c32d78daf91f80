/**
 * The command of a `spark:` task for an executor that runs it as a process here: the venv's
 * spark-submit with the task's master (the cluster masters submit from here too), and the
 * environment it needs. Master k8s (cluster mode) is submitted by the Kubernetes executor
 * (executors/kubernetes/spark-driver.ts), not from here. Master yarn needs the ResourceManager of
 * a webhdfs connection: the application is tagged with the attempt and killed through it.
 */
import { findSparkInstall, noSparkMessage, resolveSparkMaster, sparkEnv, sparkSubmitArgv, yarnAttemptTag } from "../spark/index.js";
import type { TaskSpec } from "../pipelines/index.js";
import { LaunchError } from "./executor.js";
import type { TaskCommand, TaskCommandOptions } from "./task-command.js";

/** The file in the attempt's folder that marks a spark-submit attempt (its driver log is read at the end). */
export const SPARK_SUBMIT_FILE = "spark-submit.json";

export function sparkTaskCommand(task: TaskSpec, options: TaskCommandOptions): TaskCommand {
  const spark = task.spark;
  if (spark === undefined) throw new LaunchError(`task ${task.id} is a spark task without its spark: field`, { retryable: false });
  if (options.pathStyle === "posix") {
    throw new LaunchError(`task ${task.id}: a spark task is not run inside a pod; give it master k8s to run it in cluster mode on the Kubernetes executor (docs/spark.md)`, { retryable: false });
  }
  const env = options.env ?? {};
  const master = resolveSparkMaster(spark, env);
  if (master === "k8s" || master.startsWith("k8s://")) {
    throw new LaunchError(`task ${task.id}: master ${master} (cluster mode on Kubernetes) runs on the Kubernetes executor: set executor: kubernetes on the task (docs/spark.md)`, { retryable: false });
  }
  if (spark.deployMode !== undefined && master !== "yarn") {
    throw new LaunchError(`task ${task.id}: spark.deploy_mode is for master yarn; the master here is ${master} (from the task's spark connection)`, { retryable: false });
  }
  const yarn = master === "yarn";
  if (yarn && options.yarn === undefined) {
    throw new LaunchError(
      `task ${task.id}: master yarn needs a webhdfs connection with resource_manager (written to yarn-site.xml) and resource_manager_url (the ResourceManager's REST API, through which Capstan kills the application on cancel and timeout); name it in spark.connection or connections: (docs/spark.md)`,
      { retryable: false },
    );
  }
  const install = findSparkInstall(options.python);
  if (install === null) throw new LaunchError(`task ${task.id}: ${noSparkMessage(options.python)}`, { retryable: false });
  const conf: Record<string, string> = {};
  if (yarn && options.token !== undefined) {
    // The task's own tags stay; the attempt's tag finds the application in the ResourceManager's lists.
    const own = spark.conf["spark.yarn.tags"];
    conf["spark.yarn.tags"] = [own, yarnAttemptTag(options.token)].filter((t) => t !== undefined && t !== "").join(",");
  }
  const argv = sparkSubmitArgv(
    { ...spark, conf: { ...spark.conf, ...conf } },
    { sparkSubmit: install.sparkSubmit, baseDir: options.baseDir, master, appName: task.id, args: task.args, ...(yarn ? { deployMode: spark.deployMode ?? "client" } : {}) },
  );
  return {
    argv,
    files: { [SPARK_SUBMIT_FILE]: `${JSON.stringify({ master, ...(yarn ? { deployMode: spark.deployMode ?? "client" } : {}) })}\n` },
    outputs: {},
    env: sparkEnv({ ...task.env, ...env }, { sparkHome: install.sparkHome, python: options.python }, master),
    ...(yarn && options.yarn !== undefined ? { yarn: options.yarn } : {}),
  };
}
