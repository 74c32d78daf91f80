import { describe, expect, it } from "vitest";
import type { SparkTaskSpec } from "../pipelines/index.js";
import { propertiesText, reservedK8sConf, sparkK8sSubmit, submitEnvironment, type SparkK8sSubmitOptions } from "./k8s-submit.js";

const base: SparkTaskSpec = { application: "local:///opt/jobs/a.py", conf: {}, packages: [], pyFiles: [], driver: {}, executor: {} };
const options: SparkK8sSubmitOptions = {
  sparkSubmit: "/venv/spark-submit",
  sparkHome: "/venv/pyspark",
  python: "/venv/bin/python",
  apiServer: "https://10.0.0.1:6443",
  kubeconfig: "/etc/capstan/kubeconfig",
  context: "prod",
  namespace: "jobs",
  serviceAccount: "spark",
  image: "registry.example/spark:4.1.4",
  driverPod: "p-a-0123456789",
  driverContainer: "task",
  driverTemplate: "/attempt/spark-driver-template.json",
  labels: { "capstan.dev/run": "r1" },
  annotations: { "capstan.dev/task-id": "a" },
  appName: "a",
  args: ["--day", "1"],
  baseDir: "/p",
  podEnv: [],
  envPropertiesFile: "/attempt/spark-env.properties",
};

describe("spark-submit in Kubernetes cluster mode", () => {
  it("submits to the cluster's API server without waiting, with the cluster's namespace, account, context and the attempt's labels", () => {
    const { argv, env } = sparkK8sSubmit({ ...base, conf: { "spark.sql.shuffle.partitions": "4" } }, options);
    expect(argv.slice(0, 7)).toEqual(["/venv/spark-submit", "--master", "k8s://https://10.0.0.1:6443", "--name", "a", "--deploy-mode", "cluster"]);
    const conf = argv.filter((_, i) => argv[i - 1] === "--conf");
    expect(conf).toEqual(
      expect.arrayContaining([
        "spark.sql.shuffle.partitions=4",
        "spark.kubernetes.submission.waitAppCompletion=false",
        "spark.kubernetes.namespace=jobs",
        "spark.kubernetes.context=prod",
        "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
        "spark.kubernetes.container.image=registry.example/spark:4.1.4",
        "spark.kubernetes.driver.pod.name=p-a-0123456789",
        "spark.kubernetes.driver.label.capstan.dev/attempt=p-a-0123456789",
        "spark.kubernetes.executor.label.capstan.dev/attempt=p-a-0123456789",
        "spark.kubernetes.driver.label.capstan.dev/run=r1",
        "spark.kubernetes.driver.annotation.capstan.dev/task-id=a",
      ]),
    );
    expect(conf.some((c) => c.startsWith("spark.ui.port"))).toBe(false);
    expect(argv.slice(-3)).toEqual(["local:///opt/jobs/a.py", "--day", "1"]);
    // Credentials come from the kubeconfig file, never from the command line.
    expect(env.KUBECONFIG).toBe("/etc/capstan/kubeconfig");
    expect(argv.join(" ")).not.toMatch(/oauthToken|token/i);
    expect(env.PYSPARK_PYTHON).toBeUndefined();
  });

  it("gives the task's environment to the driver and the executors in a properties file, off the command line: plain values as env conf, secrets only as Secret key references", () => {
    const { argv, env, properties } = sparkK8sSubmit(base, { ...options, podEnv: [{ name: "MODE", value: "fast" }, { name: "DB_PASSWORD", secretKeyRef: { name: "p-a-0123456789", key: "DB_PASSWORD" } }] });
    expect(argv.slice(7, 9)).toEqual(["--properties-file", "/attempt/spark-env.properties"]);
    expect(argv.join(" ")).not.toContain("fast");
    expect(properties.split("\n").slice(1)).toEqual([
      "spark.kubernetes.driverEnv.MODE=fast",
      "spark.executorEnv.MODE=fast",
      "spark.kubernetes.driver.secretKeyRef.DB_PASSWORD=p-a-0123456789:DB_PASSWORD",
      "spark.kubernetes.executor.secretKeyRef.DB_PASSWORD=p-a-0123456789:DB_PASSWORD",
      "",
    ]);
    // spark-submit itself does not get the task's environment.
    expect(env.MODE).toBeUndefined();
    expect(env.DB_PASSWORD).toBeUndefined();
  });

  it("keeps Capstan's settings over an env variable of the same conf key, and a task cannot reference Secrets through its conf", () => {
    // --conf wins over the properties file, so the task's conf of that key is dropped rather than let win.
    const { argv, properties } = sparkK8sSubmit({ ...base, conf: { "spark.kubernetes.driverEnv.MODE": "task" } }, { ...options, podEnv: [{ name: "MODE", value: "env" }] });
    expect(properties).toContain("spark.kubernetes.driverEnv.MODE=env\n");
    expect(argv.join(" ")).not.toContain("spark.kubernetes.driverEnv.MODE=");
    for (const key of ["spark.kubernetes.driver.secretKeyRef.X", "spark.kubernetes.executor.secretKeyRef.X"]) {
      expect(reservedK8sConf({ ...base, conf: { [key]: "other-secret:key" } }), key).toMatch(/cannot be set with master k8s/);
    }
  });

  it("writes values Spark reads back as they were: escapes, and a value Spark would trim stays on the command line", () => {
    expect(propertiesText({ "spark.executorEnv.A": "x=1: #two\\three\nfour\tfive é" })).toBe(
      "# The task's environment for its Spark driver and executors, written by Capstan for one attempt.\nspark.executorEnv.A=x=1: #two\\\\three\\nfour\\tfive é\n",
    );
    const { argv, properties } = sparkK8sSubmit(base, { ...options, podEnv: [{ name: "PAD", value: " padded " }] });
    expect(argv).toContain("spark.kubernetes.driverEnv.PAD= padded ");
    expect(properties).not.toContain("PAD");
  });

  it("refuses task conf that would choose another context, namespace or credentials, or Capstan's labels", () => {
    expect(reservedK8sConf({ ...base, conf: { "spark.executor.memoryOverhead": "1g" } })).toBeUndefined();
    for (const key of ["spark.kubernetes.context", "spark.kubernetes.namespace", "spark.kubernetes.authenticate.submission.oauthToken", "spark.kubernetes.driver.label.capstan.dev/run", "spark.kubernetes.driver.pod.name"]) {
      expect(reservedK8sConf({ ...base, conf: { [key]: "x" } })).toMatch(new RegExp(`spark\\.conf\\.${key.replaceAll(".", "\\.")} cannot be set with master k8s`));
    }
  });

  it("lets through only conf the driver and executors use in their pods, never what spark-submit reads or uploads from the platform's machine", () => {
    for (const key of ["spark.sql.shuffle.partitions", "spark.executor.instances", "spark.driver.memory", "spark.kubernetes.driverEnv.MODE", "spark.kubernetes.executor.label.team", "spark.kubernetes.driver.limit.cores", "spark.ui.showConsoleProgress"]) {
      expect(reservedK8sConf({ ...base, conf: { [key]: "1" } }), key).toBeUndefined();
    }
    for (const key of [
      "spark.files", "spark.jars", "spark.archives", "spark.jars.ivySettings", "spark.jars.repositories", "spark.kubernetes.file.upload.path",
      "spark.kubernetes.executor.podTemplateFile", "spark.kubernetes.driver.volumes.hostPath.h.mount.path", "spark.kubernetes.container.image",
      "spark.kubernetes.driver.container.image", "spark.kubernetes.driver.secrets.s", "spark.hadoop.fs.s3a.impl", "spark.kerberos.keytab",
      "spark.kubernetes.kerberos.krb5.path", "spark.ssl.keyStore", "spark.kubernetes.node.selector.gpu", "spark.driver.extraClassPath",
    ]) {
      expect(reservedK8sConf({ ...base, conf: { [key]: "x" } }), key).toMatch(/cannot be set with master k8s: spark-submit runs on the platform's machine/);
    }
  });

  it("runs spark-submit with none of the platform's own settings or secrets in its environment", () => {
    const env = submitEnvironment({ KUBECONFIG: "/k", SPARK_HOME: "/s" }, { PATH: "/bin", JAVA_HOME: "/j", CAPSTAN_SECRET_KEY: "k", CAPSTAN_DATABASE_URL: "postgres://u:p@h/db", AWS_SECRET_ACCESS_KEY: "a", JAVA_TOOL_OPTIONS: "-javaagent:x" });
    expect(env).toEqual({ PATH: "/bin", JAVA_HOME: "/j", KUBECONFIG: "/k", SPARK_HOME: "/s" });
  });
});
