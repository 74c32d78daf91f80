/**
 * Turns a rendered task into the argv that runs it, for any executor: a command list as is, a
 * command string through `sh -c`, a python script with the configured interpreter, a notebook
 * through `capstan notebook run`, a Spark job through the venv's spark-submit (src/spark).
 */
import { isAbsolute, join, posix } from "node:path";
import { pathScheme } from "../notebooks/locations/index.js";
import { parametersJson } from "../notebooks/parameters/parameters-json.js";
import type { TaskSpec } from "../pipelines/index.js";
import type { YarnTarget } from "../spark/index.js";
import { sparkTaskCommand } from "./spark-command.js";

export interface TaskCommandOptions {
  /** The Python interpreter for `python` tasks. */
  python: string;
  /** The argv prefix that runs the capstan CLI (e.g. [node, bin/capstan.js]). */
  capstan: readonly string[];
  /** The folder relative script and notebook paths resolve against. */
  baseDir: string;
  /** The attempt's own folder: the output notebook and parameter file go there. */
  attemptDir: string;
  /** Path joining for the target system (POSIX inside pods). */
  pathStyle?: "native" | "posix";
  /** The launch's environment (a spark task reads its connection's master from it). */
  env?: Readonly<Record<string, string>>;
  /** For a spark task with master yarn: the ResourceManager of its webhdfs connection. */
  yarn?: YarnTarget;
  /** The attempt's token (a YARN application is tagged with it). */
  token?: string;
}

export interface TaskCommand {
  argv: string[];
  /** Files the command needs written before it starts (name → content), relative to attemptDir. */
  files: Record<string, string>;
  /** Outputs known before the task runs (the output notebook's path). */
  outputs: Record<string, string>;
  /** Environment the command needs on top of the launch's (SPARK_HOME for spark-submit). */
  env?: Record<string, string>;
  /** For spark-submit with master yarn: the ResourceManager its application is killed through. */
  yarn?: YarnTarget;
}

/** The argv of a rendered task. */
export function taskCommand(task: TaskSpec, options: TaskCommandOptions): TaskCommand {
  const joinPath = (...parts: string[]) => (options.pathStyle === "posix" ? posix.join(...parts) : join(...parts));
  const resolvePath = (p: string) => (isAbsolute(p) || p.startsWith("/") ? p : joinPath(options.baseDir, p));
  switch (task.kind) {
    case "command": {
      const command = task.command ?? [];
      return { argv: typeof command === "string" ? ["/bin/sh", "-c", command] : [...command], files: {}, outputs: {} };
    }
    case "python":
      return { argv: [options.python, resolvePath(task.python ?? ""), ...task.args], files: {}, outputs: {} };
    case "spark":
      return sparkTaskCommand(task, options);
    case "notebook": {
      const outputNotebook = joinPath(options.attemptDir, "output.ipynb");
      const parametersFile = joinPath(options.attemptDir, "parameters.json");
      const notebook = task.notebook ?? "";
      // an http(s):// notebook is read from its URL; a path resolves against the pipeline's folder
      const input = pathScheme(notebook) === undefined ? resolvePath(notebook) : notebook;
      const argv = [...options.capstan, "notebook", "run", input, outputNotebook, "-f", parametersFile, "--cwd", task.cwd ? resolvePath(task.cwd) : options.baseDir, "--log-output"];
      if (task.kernel) argv.push("-k", task.kernel);
      return { argv, files: { "parameters.json": parametersJson(task.parameters) }, outputs: { notebook: outputNotebook } };
    }
    case "kafka_sensor":
      throw new Error(`task ${task.id} is a kafka_sensor: the platform waits for its message itself, no command runs`);
  }
}
