/**
 * spark-submit for Kubernetes cluster mode: the command that submits a task's driver as a pod and
 * returns at once (waitAppCompletion=false), with the driver pod named and labelled by Capstan so
 * the Kubernetes executor follows it like one of its own pods, and credentials read from the
 * cluster's kubeconfig (KUBECONFIG and spark.kubernetes.context, never a token on the command line).
 */
import type { SparkTaskSpec } from "../pipelines/index.js";
import { sparkEnv, sparkSubmitArgv } from "./spark-submit.js";

/** The label every pod of one Spark attempt carries (driver and executors); its value is the driver pod's name. */
export const SPARK_ATTEMPT_LABEL = "capstan.dev/attempt";

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
  taskEnv: Readonly<Record<string, string>>;
}

/**
 * Conf keys a task cannot set in cluster mode: they choose the cluster, namespace and credentials
 * (a task must not reach past its cluster's), or how Capstan finds and stops the driver.
 */
const CAPSTAN_K8S_CONF = [/^spark\.kubernetes\.(context|namespace|driver\.pod\.name|driver\.podTemplate(File|ContainerName)|submission\.waitAppCompletion)$/, /^spark\.kubernetes\.authenticate\./, /^spark\.kubernetes\.(driver|executor)\.(label|annotation)\.capstan\.dev\//];

/** The first conf key of the task that cluster mode keeps for Capstan, with why; undefined when none. */
export function reservedK8sConf(spark: SparkTaskSpec): string | undefined {
  const key = Object.keys(spark.conf).find((name) => CAPSTAN_K8S_CONF.some((pattern) => pattern.test(name)));
  if (key === undefined) return undefined;
  return `spark.conf.${key} cannot be set with master k8s: Capstan sets the cluster, namespace, credentials, driver name and capstan.dev/ labels from the task's cluster (clusters: in capstan.yaml) and kubernetes: field`;
}

/** The argv and environment of spark-submit --deploy-mode cluster on Kubernetes. */
export function sparkK8sSubmit(spark: SparkTaskSpec, options: SparkK8sSubmitOptions): { argv: string[]; env: Record<string, string> } {
  const conf: Record<string, string> = {
    "spark.kubernetes.submission.waitAppCompletion": "false",
    "spark.kubernetes.namespace": options.namespace,
    "spark.kubernetes.container.image": options.image,
    "spark.kubernetes.driver.pod.name": options.driverPod,
    "spark.kubernetes.driver.podTemplateFile": options.driverTemplate,
    "spark.kubernetes.driver.podTemplateContainerName": options.driverContainer,
  };
  if (options.context !== undefined) conf["spark.kubernetes.context"] = options.context;
  if (options.serviceAccount !== undefined) conf["spark.kubernetes.authenticate.driver.serviceAccountName"] = options.serviceAccount;
  const labels = { ...options.labels, [SPARK_ATTEMPT_LABEL]: options.driverPod };
  for (const [key, value] of Object.entries(labels)) {
    conf[`spark.kubernetes.driver.label.${key}`] = value;
    conf[`spark.kubernetes.executor.label.${key}`] = value;
  }
  for (const [key, value] of Object.entries(options.annotations)) conf[`spark.kubernetes.driver.annotation.${key}`] = value;
  // Capstan's settings win over the task's conf: they are how the driver is found and stopped.
  const argv = sparkSubmitArgv(
    { ...spark, conf: { ...spark.conf, ...conf } },
    { sparkSubmit: options.sparkSubmit, baseDir: options.baseDir, master: `k8s://${options.apiServer}`, appName: options.appName, args: options.args, deployMode: "cluster" },
  );
  const env: Record<string, string> = { ...sparkEnv(options.taskEnv, { sparkHome: options.sparkHome, python: options.python }, "k8s"), KUBECONFIG: options.kubeconfig };
  // The image's own interpreter runs the driver, not this machine's venv.
  delete env.PYSPARK_PYTHON;
  delete env.PYSPARK_DRIVER_PYTHON;
  return { argv, env };
}

/** The driver pod template: only the container's name, so its log and exit are read like any task pod's. */
export function driverPodTemplate(container: string): string {
  return `${JSON.stringify({ apiVersion: "v1", kind: "Pod", spec: { containers: [{ name: container }] } })}\n`;
}
