/**
 * The spark-submit command line of a `spark:` task: the master, the application, its conf,
 * packages, py files and resources, and what Capstan adds for a local master (a free UI port on
 * loopback, the venv's Python for the driver and workers).
 */
import { isAbsolute, join } from "node:path";
import type { SparkTaskSpec } from "../pipelines/index.js";

/** The master a task runs with: its own, else its spark connection's (CAPSTAN_CONN_<NAME>_MASTER), else local[*]. */
export function resolveSparkMaster(spark: SparkTaskSpec, env: Readonly<Record<string, string>>): string {
  if (spark.master !== undefined) return spark.master;
  if (spark.connection !== undefined) {
    const fromConnection = env[`CAPSTAN_CONN_${spark.connection.replaceAll("-", "_").toUpperCase()}_MASTER`];
    if (fromConnection !== undefined && fromConnection !== "") return fromConnection;
  }
  return "local[*]";
}

/** Whether the master runs the whole job in the spark-submit process here. */
export function isLocalMaster(master: string): boolean {
  return master === "local" || master.startsWith("local[");
}

export interface SparkSubmitOptions {
  /** bin/spark-submit of the Spark to use. */
  sparkSubmit: string;
  /** The folder relative application and py_files paths resolve against. */
  baseDir: string;
  /** The resolved master (resolveSparkMaster). */
  master: string;
  /** The application's name in Spark (its UI, the cluster's application list). */
  appName: string;
  /** The application's arguments (the task's rendered args). */
  args: readonly string[];
  /** Extra conf Capstan sets (labels, submission settings), under the task's own. */
  conf?: Readonly<Record<string, string>>;
  /** --deploy-mode; absent: spark-submit's default (client). */
  deployMode?: "client" | "cluster";
  /** --properties-file: conf kept off the command line (which every local process can read); --conf wins over it. */
  propertiesFile?: string;
}

/** The argv of spark-submit for the task. */
export function sparkSubmitArgv(spark: SparkTaskSpec, options: SparkSubmitOptions): string[] {
  const resolvePath = (path: string) => (isAbsolute(path) || /^[a-z][a-z0-9+.-]*:\/\//.test(path) ? path : join(options.baseDir, path));
  const argv = [options.sparkSubmit, "--master", options.master, "--name", options.appName];
  if (options.deployMode !== undefined) argv.push("--deploy-mode", options.deployMode);
  if (options.propertiesFile !== undefined) argv.push("--properties-file", options.propertiesFile);
  if (spark.mainClass !== undefined) argv.push("--class", spark.mainClass);
  if (spark.packages.length > 0) argv.push("--packages", spark.packages.join(","));
  if (spark.pyFiles.length > 0) argv.push("--py-files", spark.pyFiles.map(resolvePath).join(","));
  if (spark.driver.memory !== undefined) argv.push("--driver-memory", spark.driver.memory);
  if (spark.driver.cores !== undefined) argv.push("--driver-cores", String(spark.driver.cores));
  if (spark.executor.memory !== undefined) argv.push("--executor-memory", spark.executor.memory);
  if (spark.executor.cores !== undefined) argv.push("--executor-cores", String(spark.executor.cores));
  if (spark.executor.instances !== undefined) argv.push("--num-executors", String(spark.executor.instances));
  const conf: Record<string, string> = { ...options.conf, ...spark.conf };
  // The UI of a local job takes a free port (two tasks never fight over 4040); its URL is read from the driver log.
  if (isLocalMaster(options.master) && !("spark.ui.port" in conf)) conf["spark.ui.port"] = "0";
  // Loopback is shared with other teams' local tasks: the UI shows plans and values but cannot kill jobs.
  if (isLocalMaster(options.master)) conf["spark.ui.killEnabled"] = "false";
  for (const [key, value] of Object.entries(conf)) argv.push("--conf", `${key}=${value}`);
  argv.push(resolvePath(spark.application), ...options.args);
  return argv;
}

/**
 * The environment spark-submit needs besides the task's: SPARK_HOME, the venv's Python for the
 * driver and the workers, and for a local master, the driver and its UI bound to loopback. Values
 * the task sets itself are kept.
 */
export function sparkEnv(taskEnv: Readonly<Record<string, string>>, install: { sparkHome: string; python: string }, master: string): Record<string, string> {
  const env: Record<string, string> = { SPARK_HOME: install.sparkHome, PYSPARK_PYTHON: install.python, PYSPARK_DRIVER_PYTHON: install.python };
  if (isLocalMaster(master)) env.SPARK_LOCAL_IP = "127.0.0.1";
  for (const name of Object.keys(env)) {
    if (taskEnv[name] !== undefined) delete env[name];
  }
  return env;
}
