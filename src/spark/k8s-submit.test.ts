import { describe, expect, it } from "vitest";
import type { SparkTaskSpec } from "../pipelines/index.js";
import { reservedK8sConf, sparkK8sSubmit, type SparkK8sSubmitOptions } from "./k8s-submit.js";

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
  taskEnv: {},
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

  it("refuses task conf that would choose another context, namespace or credentials, or Capstan's labels", () => {
    expect(reservedK8sConf({ ...base, conf: { "spark.executor.memoryOverhead": "1g" } })).toBeUndefined();
    for (const key of ["spark.kubernetes.context", "spark.kubernetes.namespace", "spark.kubernetes.authenticate.submission.oauthToken", "spark.kubernetes.driver.label.capstan.dev/run", "spark.kubernetes.driver.pod.name"]) {
      expect(reservedK8sConf({ ...base, conf: { [key]: "x" } })).toMatch(new RegExp(`spark\\.conf\\.${key.replaceAll(".", "\\.")} cannot be set with master k8s`));
    }
  });
});
