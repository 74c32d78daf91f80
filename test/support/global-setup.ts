/**
 * Vitest global setup: starts the services the integration tests share, once per test run — a real
 * PostgreSQL server (Debian package) whose URL reaches the tests as CAPSTAN_TEST_PG_URL, and the
 * Kubernetes test control plane (kube-apiserver, kube-scheduler, etcd, kwok) whose kubeconfig
 * reaches them as CAPSTAN_TEST_KUBECONFIG — and rebuilds dist/ when sources are newer, for tests
 * that spawn the `capstan` command. The test S3 server's binary (versitygw) is built alongside when
 * missing; each storage test file starts its own server. helm (for the chart tests) and kustomize-build
 * (for the kustomize tests) are built the same way, and the Kafka broker's jars (for the stream tests) and the Hadoop minicluster's (for the HDFS tests) are fetched from Maven Central the same way.
 */
import { ensureBuilt } from "./build.js";
import { ensureHadoop } from "./hadoop-testenv.js";
import { ensureHelmBinary } from "./helm-testenv.js";
import { ensureKafka } from "./kafka-testenv.js";
import { ensureKustomizeBinary } from "./kustomize-testenv.js";
import { KUBE_TESTENV_KUBECONFIG_ENV, startKubeTestenv, type KubeTestenv } from "./kube-testenv.js";
import { startTestPostgres, type TestPostgres } from "./postgres.js";
import { ensureS3Binary } from "./s3-testenv.js";

let postgres: TestPostgres | undefined;
let kube: KubeTestenv | undefined;

export default async function setup(): Promise<() => Promise<void>> {
  ensureBuilt();
  // Built beside the Kubernetes binaries; a failed build fails the run with the build's last lines.
  const s3Binary = ensureS3Binary();
  s3Binary.catch(() => undefined);
  const helmBinary = ensureHelmBinary();
  helmBinary.catch(() => undefined);
  const kustomizeBinary = ensureKustomizeBinary();
  kustomizeBinary.catch(() => undefined);
  const kafkaJars = ensureKafka();
  kafkaJars.catch(() => undefined);
  const hadoopJars = ensureHadoop();
  hadoopJars.catch(() => undefined);
  try {
    if (!process.env.CAPSTAN_TEST_PG_URL) {
      postgres = await startTestPostgres();
      process.env.CAPSTAN_TEST_PG_URL = postgres.url;
    }
    if (!process.env[KUBE_TESTENV_KUBECONFIG_ENV]) {
      kube = await startKubeTestenv();
      process.env[KUBE_TESTENV_KUBECONFIG_ENV] = kube.kubeconfigPath;
    }
    await s3Binary;
    await helmBinary;
    await kustomizeBinary;
    await kafkaJars;
    await hadoopJars;
  } catch (error) {
    postgres?.stop();
    await kube?.stop();
    throw error;
  }
  return async () => {
    postgres?.stop();
    await kube?.stop();
  };
}
