/**
 * spark-submit for Kubernetes cluster mode: the command that submits a task's driver as a pod and
 * returns at once (waitAppCompletion=false), with the driver pod named and labelled by Capstan so
 * the Kubernetes executor follows it like one of its own pods, and credentials read from the
 * cluster's kubeconfig (KUBECONFIG and spark.kubernetes.context, never a token on the command line).
 * The task's environment reaches the driver and executors as conf: plain values as driverEnv /
 * executorEnv, secret values only as references to keys of a Kubernetes Secret (secretKeyRef).
 * That conf goes into a properties file, not onto the command line, which every process on the
 * platform's machine can read.
 */
import type { SparkTaskSpec } from "../pipelines/index.js";
import { sparkEnv, sparkSubmitArgv } from "./spark-submit.js";

/** The label every pod of one Spark attempt carries (driver and executors); its value is the driver pod's name. */
export const SPARK_ATTEMPT_LABEL = "capstan.dev/attempt";

/**
 * One variable of the driver's and executors' environment: a plain value (in spark-submit's
 * properties file), or a key of a Kubernetes Secret in the driver's namespace (only its name is).
 */
export type SparkPodEnv = { name: string; value: string } | { name: string; secretKeyRef: { name: string; key: string } };

export interface SparkK8sSubmitOptions {
  sparkSubmit: string;
  sparkHome: string;
  /** The venv interpreter spark-submit runs with here. */
  python: string;
  /** The API server URL of the task's cluster. */
  apiServer: string;
  kubeconfig: string;
  context: string | undefined;
  namespace: string;
  serviceAccount: string | undefined;
  image: string;
  /** The driver pod's name (the attempt's pod name) and the attempt label's value. */
  driverPod: string;
  /** The driver's container name (Capstan reads the log and exit of this container). */
  driverContainer: string;
  /** A pod template file that names the driver's container. */
  driverTemplate: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  appName: string;
  args: readonly string[];
  baseDir: string;
  /** The task's environment for the driver and the executors. */
  podEnv: readonly SparkPodEnv[];
  /** Where the caller writes `properties` (mode 0600, on the platform's machine) before spark-submit runs. */
  envPropertiesFile: string;
}

/**
 * Conf keys a task cannot set in cluster mode: they choose the cluster, namespace and credentials
 * (a task must not reach past its cluster's), or how Capstan finds and stops the driver.
 */
const CAPSTAN_K8S_CONF = [/^spark\.kubernetes\.(context|namespace|driver\.pod\.name|driver\.podTemplate(File|ContainerName)|submission\.waitAppCompletion)$/, /^spark\.kubernetes\.authenticate\./, /^spark\.kubernetes\.(driver|executor)\.(label|annotation)\.capstan\.dev\//];

/**
 * The only conf keys a task may set in cluster mode. spark-submit runs on the platform's machine,
 * outside the task's boundary, and reads some conf there: files to upload (spark.files, jars,
 * archives, the upload path, pod templates, keytabs, krb5 files), Ivy settings, Hadoop and SSL
 * settings. So only what the driver and executors use in their pods is let through: SQL, memory,
 * cores, shuffle and scheduling tuning, the pods' env and labels, and the UI and event log.
 */
const TASK_K8S_CONF = [
  /^spark\.(sql|shuffle|memory|dynamicAllocation|speculation|task|scheduler|locality|network|rpc|io|rdd|broadcast|storage|cleaner|kryo|kryoserializer|serializer|default|ui|eventLog|python|pyspark|executorEnv|reducer|checkpoint|streaming)\./,
  /^spark\.(serializer|default\.parallelism|speculation|network\.timeout|submit\.pyFiles)$/,
  /^spark\.(driver|executor)\.(memory|memoryOverhead|memoryOverheadFactor|cores|instances|extraJavaOptions|defaultJavaOptions|maxResultSize|pyspark\.memory)$/,
  /^spark\.executor\.(heartbeatInterval|processTreeMetrics\.enabled)$/,
  /^spark\.kubernetes\.driverEnv\.[A-Za-z_][A-Za-z0-9_]*$/,
  /^spark\.kubernetes\.(driver|executor)\.(label|annotation)\.[^/]+(\/[^/]+)?$/,
  /^spark\.kubernetes\.(driver|executor)\.(request|limit)\.cores$/,
  /^spark\.kubernetes\.(memoryOverheadFactor|executor\.deleteOnTermination|allocation\.batch\.size|allocation\.batch\.delay|executor\.podNamePrefix)$/,
];

/** The first conf key of the task that cluster mode keeps for Capstan or does not let through, with why; undefined when none. */
export function reservedK8sConf(spark: SparkTaskSpec): string | undefined {
  const names = Object.keys(spark.conf);
  const reserved = names.find((name) => CAPSTAN_K8S_CONF.some((pattern) => pattern.test(name)));
  if (reserved !== undefined) {
    return `spark.conf.${reserved} cannot be set with master k8s: Capstan sets the cluster, namespace, credentials, driver name and capstan.dev/ labels from the task's cluster (clusters: in capstan.yaml) and kubernetes: field`;
  }
  const refused = names.find((name) => !TASK_K8S_CONF.some((pattern) => pattern.test(name)));
  if (refused === undefined) return undefined;
  return `spark.conf.${refused} cannot be set with master k8s: spark-submit runs on the platform's machine, so only conf the driver and executors use in their pods is accepted (spark.sql.*, spark.driver/executor memory, cores and Java options, shuffle, memory, scheduling and UI settings, spark.kubernetes.driverEnv.*, pod labels and annotations, cores requests and limits; docs/spark.md)`;
}

/** What of the platform's own environment spark-submit gets: enough to run Java, nothing of Capstan's settings or secrets. */
const SUBMIT_HOST_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "JAVA_HOME"];

/** The environment spark-submit runs with on the platform's machine: `env` over the few host variables Java needs. */
export function submitEnvironment(env: Readonly<Record<string, string>>, host: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SUBMIT_HOST_ENV) {
    const value = host[name];
    if (value !== undefined) out[name] = value;
  }
  return { ...out, ...env };
}

/**
 * The argv and environment of spark-submit --deploy-mode cluster on Kubernetes, and the properties
 * file (Java properties, for options.envPropertiesFile) holding the task's environment.
 */
export function sparkK8sSubmit(spark: SparkTaskSpec, options: SparkK8sSubmitOptions): { argv: string[]; env: Record<string, string>; properties: string } {
  const conf: Record<string, string> = {};
  const fromFile: Record<string, string> = {};
  for (const variable of options.podEnv) {
    // Spark trims the values it reads from a properties file: a value that trimming would change stays on the command line.
    const target = "value" in variable && trimExceptLineBreaks(variable.value) !== variable.value ? conf : fromFile;
    if ("value" in variable) {
      target[`spark.kubernetes.driverEnv.${variable.name}`] = variable.value;
      target[`spark.executorEnv.${variable.name}`] = variable.value;
    } else {
      const ref = `${variable.secretKeyRef.name}:${variable.secretKeyRef.key}`;
      target[`spark.kubernetes.driver.secretKeyRef.${variable.name}`] = ref;
      target[`spark.kubernetes.executor.secretKeyRef.${variable.name}`] = ref;
    }
  }
  Object.assign(conf, {
    "spark.kubernetes.submission.waitAppCompletion": "false",
    "spark.kubernetes.namespace": options.namespace,
    "spark.kubernetes.container.image": options.image,
    "spark.kubernetes.driver.pod.name": options.driverPod,
    "spark.kubernetes.driver.podTemplateFile": options.driverTemplate,
    "spark.kubernetes.driver.podTemplateContainerName": options.driverContainer,
  });
  if (options.context !== undefined) conf["spark.kubernetes.context"] = options.context;
  if (options.serviceAccount !== undefined) conf["spark.kubernetes.authenticate.driver.serviceAccountName"] = options.serviceAccount;
  const labels = { ...options.labels, [SPARK_ATTEMPT_LABEL]: options.driverPod };
  for (const [key, value] of Object.entries(labels)) {
    conf[`spark.kubernetes.driver.label.${key}`] = value;
    conf[`spark.kubernetes.executor.label.${key}`] = value;
  }
  for (const [key, value] of Object.entries(options.annotations)) conf[`spark.kubernetes.driver.annotation.${key}`] = value;
  // Capstan's settings win over the task's conf: they are how the driver is found and stopped. The
  // file's entries would lose to --conf, so a task conf key the file also sets is dropped.
  const taskConf = Object.fromEntries(Object.entries(spark.conf).filter(([key]) => !(key in fromFile)));
  const argv = sparkSubmitArgv(
    { ...spark, conf: { ...taskConf, ...conf } },
    {
      sparkSubmit: options.sparkSubmit,
      baseDir: options.baseDir,
      master: `k8s://${options.apiServer}`,
      appName: options.appName,
      args: options.args,
      deployMode: "cluster",
      propertiesFile: options.envPropertiesFile,
    },
  );
  // The task's env is not the submitting process's: spark-submit runs on the platform's machine.
  const env: Record<string, string> = { ...sparkEnv({}, { sparkHome: options.sparkHome, python: options.python }, "k8s"), KUBECONFIG: options.kubeconfig };
  // The image's own interpreter runs the driver, not this machine's venv.
  delete env.PYSPARK_PYTHON;
  delete env.PYSPARK_DRIVER_PYTHON;
  return { argv, env, properties: propertiesText(fromFile) };
}

/** What Spark keeps of a value read from a properties file (it trims all but CR and LF). */
function trimExceptLineBreaks(value: string): string {
  const trimmed = (c: string | undefined) => c !== undefined && c <= " " && c !== "\r" && c !== "\n";
  let start = 0;
  let end = value.length;
  while (start < end && trimmed(value[start])) start++;
  while (end > start && trimmed(value[end - 1])) end--;
  return value.slice(start, end);
}

/** Java properties text of `entries` (read by spark-submit as UTF-8). */
export function propertiesText(entries: Readonly<Record<string, string>>): string {
  const escape = (text: string, key: boolean) =>
    text.replace(/[\\\n\r\t\f=:#! ]/g, (c) => {
      if (c === "\\") return "\\\\";
      if (c === "\n") return "\\n";
      if (c === "\r") return "\\r";
      if (c === "\t") return "\\t";
      if (c === "\f") return "\\f";
      return key ? `\\${c}` : c;
    });
  const lines = Object.entries(entries).map(([key, value]) => `${escape(key, true)}=${escape(value, false)}`);
  return `# The task's environment for its Spark driver and executors, written by Capstan for one attempt.\n${lines.join("\n")}\n`;
}

/** The driver pod template: only the container's name, so its log and exit are read like any task pod's. */
export function driverPodTemplate(container: string): string {
  return `${JSON.stringify({ apiVersion: "v1", kind: "Pod", spec: { containers: [{ name: container }] } })}\n`;
}
