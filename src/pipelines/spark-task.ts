/**
 * The `spark:` task kind as written and as the engine keeps it: the application (a Python file or a
 * JAR with its main class), conf, packages, driver and executor resources, the master and the
 * connection that may carry it. Checked here so a bad value is a load error naming the field.
 */
import { existsSync, realpathSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { z } from "zod";
import { parseMemory } from "../units/index.js";
import type { FieldPath, IssueList, ValidationIssue } from "./errors.js";
import type { PipelineSpec, SparkTaskSpec } from "./model.js";
import { hasTemplate } from "./templating.js";

/** Masters a task may name: local[N] / local[*] run the venv's spark-submit here; k8s and yarn are the cluster managers. */
export const SPARK_MASTER_HINT = "local, local[N], local[*], k8s or yarn";
const SPARK_MASTER = /^(local(\[([1-9][0-9]{0,3}|\*)\])?|k8s|yarn)$/;
/** Maven coordinates as spark-submit --packages takes them: group:artifact:version. */
const MAVEN_COORDINATE = /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+$/;
const CONF_KEY = /^spark\.[A-Za-z0-9_.-]+$/;
const MAIN_CLASS = /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/;
/** Conf keys Capstan sets from other fields (or for its own following of the job). */
const RESERVED_CONF: Record<string, string> = {
  "spark.master": "set master: instead",
  "spark.submit.deployMode": "Capstan chooses the deploy mode from the master",
  "spark.app.name": "Capstan names the application after the run and task",
  "spark.yarn.submit.waitAppCompletion": "Capstan follows a YARN application until it ends, and kills it on cancel",
};
/** URL schemes spark-submit reads an application from itself (no file check at load). */
const REMOTE_SCHEME = /^(hdfs|s3a|s3|gs|abfss?|https?|local|file):\/\//;

const resourceCount = (what: string) => z.number({ error: `${what} must be a whole number ≥ 1` }).int({ error: `${what} must be a whole number ≥ 1` }).min(1, { error: `${what} must be a whole number ≥ 1` });
const sparkMemory = z.union([z.string(), z.number()], { error: 'memory is a quantity such as "512Mi", "2Gi" or "4g"' });

/** The `spark:` field of a task as written. */
export const sparkTaskSchema = z.strictObject(
  {
    application: z.string({ error: "spark.application must be the path of a .py file or a .jar, relative to the pipeline file" }),
    main_class: z.string({ error: "spark.main_class must be a Java class name such as com.example.Main" }).optional(),
    master: z.string({ error: `spark.master must be one of ${SPARK_MASTER_HINT}` }).optional(),
    deploy_mode: z.enum(["client", "cluster"], { error: 'spark.deploy_mode is "client" (the driver in the task\'s process) or "cluster" (the driver in YARN), for master yarn' }).optional(),
    connection: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { error: "a connection name: lowercase letters, digits and '-', starting with a letter" }).optional(),
    conf: z
      .record(z.string(), z.string({ error: 'conf values are strings: quote numbers and booleans ("4", "true")' }), { error: "spark.conf must be a mapping of spark.* keys to string values" })
      .optional(),
    packages: z.array(z.string({ error: "a package is Maven coordinates group:artifact:version" }), { error: "spark.packages must be a list of group:artifact:version" }).optional(),
    py_files: z.array(z.string({ error: "a py_files entry is the path of a .py, .zip or .egg file" }), { error: "spark.py_files must be a list of paths" }).optional(),
    driver: z.strictObject({ memory: sparkMemory.optional(), cores: resourceCount("driver.cores").optional() }, { error: "spark.driver is { memory?, cores? }" }).optional(),
    executor: z
      .strictObject(
        { memory: sparkMemory.optional(), cores: resourceCount("executor.cores").optional(), instances: resourceCount("executor.instances").optional() },
        { error: "spark.executor is { memory?, cores?, instances? }" },
      )
      .optional(),
  },
  { error: "spark is a mapping: { application, main_class?, master?, deploy_mode?, connection?, conf?, packages?, py_files?, driver?, executor? }" },
);
export type RawSparkTask = z.output<typeof sparkTaskSchema>;

/** Spark's own memory notation (whole mebibytes: "2048m") of a quantity, or undefined when it is not one. */
function sparkMemoryValue(value: string | number): string | undefined {
  // Spark's own lowercase form ("4g", "512m") is binary, as spark-submit reads it.
  const spark = typeof value === "string" ? /^(\d+)([kmgt])$/.exec(value.trim()) : null;
  const bytes = spark ? Number(spark[1]) * 1024 ** (" kmgt".indexOf(spark[2] ?? "k")) : parseMemory(value);
  if (bytes === undefined || bytes < 1024 * 1024) return undefined;
  return `${Math.floor(bytes / (1024 * 1024))}m`;
}

/** A shape-checked `spark:` field into the engine's model; every problem goes to `issues`. */
export function normalizeSparkTask(raw: RawSparkTask, path: FieldPath, issues: IssueList): SparkTaskSpec {
  const at = (...rest: (string | number)[]): FieldPath => [...path, ...rest];
  const application = raw.application.trim();
  if (application === "") issues.add(at("application"), "spark.application is empty; give the path of a .py file or a .jar");
  const isJar = application.endsWith(".jar");
  if (!hasTemplate(application) && !isJar && !application.endsWith(".py")) {
    issues.add(at("application"), `${JSON.stringify(application)} is neither a .py file nor a .jar; a Spark application is one of these`);
  }
  if (isJar && raw.main_class === undefined) issues.add(at("main_class"), "a JAR application needs main_class (the class whose main() runs), e.g. com.example.Main");
  if (raw.main_class !== undefined && !MAIN_CLASS.test(raw.main_class)) issues.add(at("main_class"), `${JSON.stringify(raw.main_class)} is not a Java class name such as com.example.Main`);
  if (raw.main_class !== undefined && application.endsWith(".py")) issues.add(at("main_class"), "main_class belongs to JAR applications; a .py application has none");

  const master = raw.master?.trim();
  if (master !== undefined && !SPARK_MASTER.test(master)) {
    issues.add(at("master"), `unknown master ${JSON.stringify(raw.master)}; accepted: ${SPARK_MASTER_HINT} (a spark connection may carry a spark:// or k8s:// master)`);
  }

  // k8s always runs the driver in the cluster, a local master in the task's process; only YARN offers both.
  if (raw.deploy_mode !== undefined && master !== undefined && master !== "yarn") {
    issues.add(at("deploy_mode"), `deploy_mode is for master yarn; master ${master} runs its driver ${master === "k8s" ? "in the cluster (cluster mode) always" : "in the task's process"}`);
  }

  const conf: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.conf ?? {})) {
    if (!CONF_KEY.test(key)) issues.add(at("conf", key), `${JSON.stringify(key)} is not a Spark conf key; keys start with "spark." (e.g. spark.sql.shuffle.partitions)`);
    else if (key in RESERVED_CONF) issues.add(at("conf", key), `${key} cannot be set in conf: ${RESERVED_CONF[key] ?? ""}`);
    if (/[\0\n\r]/.test(value)) issues.add(at("conf", key), "a conf value cannot hold a NUL byte or a line break");
    conf[key] = value;
  }
  const packages = raw.packages ?? [];
  packages.forEach((coordinate, i) => {
    if (!MAVEN_COORDINATE.test(coordinate)) issues.add(at("packages", i), `${JSON.stringify(coordinate)} is not Maven coordinates; write group:artifact:version, e.g. org.apache.spark:spark-avro_2.13:4.1.4`);
  });
  const pyFiles = raw.py_files ?? [];
  pyFiles.forEach((file, i) => {
    if (!hasTemplate(file) && !/\.(py|zip|egg)$/.test(file)) issues.add(at("py_files", i), `${JSON.stringify(file)} is not a .py, .zip or .egg file`);
    if (file.includes(",")) issues.add(at("py_files", i), "a py_files path cannot hold ',' (spark-submit separates paths with it)");
  });

  const memory = (where: "driver" | "executor", value: string | number | undefined): string | undefined => {
    if (value === undefined) return undefined;
    const spark = sparkMemoryValue(value);
    if (spark === undefined) issues.add(at(where, "memory"), `${JSON.stringify(value)} is not a memory quantity of at least 1Mi; write e.g. "512Mi", "2Gi" or "4g"`);
    return spark;
  };
  const spec: SparkTaskSpec = { application, conf, packages, pyFiles, driver: {}, executor: {} };
  if (raw.main_class !== undefined) spec.mainClass = raw.main_class;
  if (master !== undefined) spec.master = master;
  if (raw.connection !== undefined) spec.connection = raw.connection;
  if (raw.deploy_mode !== undefined) spec.deployMode = raw.deploy_mode;
  const driverMemory = memory("driver", raw.driver?.memory);
  if (driverMemory !== undefined) spec.driver.memory = driverMemory;
  if (raw.driver?.cores !== undefined) spec.driver.cores = raw.driver.cores;
  const executorMemory = memory("executor", raw.executor?.memory);
  if (executorMemory !== undefined) spec.executor.memory = executorMemory;
  if (raw.executor?.cores !== undefined) spec.executor.cores = raw.executor.cores;
  if (raw.executor?.instances !== undefined) spec.executor.instances = raw.executor.instances;
  return spec;
}

/** The spark fields with every string passed through `render` (templates filled in at launch). */
export function renderSparkTask(spec: SparkTaskSpec, render: (text: string, field: string) => string): SparkTaskSpec {
  return {
    ...spec,
    application: render(spec.application, "spark.application"),
    conf: Object.fromEntries(Object.entries(spec.conf).map(([k, v]) => [k, render(v, `spark.conf.${k}`)])),
    pyFiles: spec.pyFiles.map((file, i) => render(file, `spark.py_files[${i}]`)),
  };
}

/**
 * The local files of each spark task (application, py_files) that do not exist, relative to the
 * pipeline file's folder: a load error rather than a failed attempt. Templated and remote paths
 * (hdfs://, s3a://, local:// in an image, …) and paths outside that folder are checked by
 * spark-submit when it runs.
 */
export function missingSparkFiles(spec: PipelineSpec, baseDir: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const task of Object.values(spec.tasks)) {
    if (task.spark === undefined) continue;
    const files: [FieldPath, string][] = [[["tasks", task.id, "spark", "application"], task.spark.application], ...task.spark.pyFiles.map((f, i): [FieldPath, string] => [["tasks", task.id, "spark", "py_files", i], f])];
    for (const [path, file] of files) {
      if (file === "" || hasTemplate(file) || REMOTE_SCHEME.test(file)) continue;
      // Only files inside the pipeline's folder are looked for: the platform can see paths a task
      // cannot (its home), and a load error must not tell whether they exist. Others are spark-submit's to find.
      const full = resolve(baseDir, file);
      if (isAbsolute(file) || relative(baseDir, full).startsWith("..")) continue;
      // A link inside the folder that leads out of it is not followed either (its target's existence is not told).
      if (existsSync(full) && !insideFolder(baseDir, full)) continue;
      if (!existsSync(full)) issues.push({ path, message: `task ${task.id}: ${file} does not exist in the pipeline's folder; paths are relative to the pipeline file's folder` });
    }
  }
  return issues;
}

/** Whether `path`, links resolved, lies inside `folder` (links resolved too). */
function insideFolder(folder: string, path: string): boolean {
  try {
    const inside = relative(realpathSync(folder), realpathSync(path));
    return inside !== "" && !inside.startsWith("..") && !isAbsolute(inside);
  } catch {
    return false;
  }
}
