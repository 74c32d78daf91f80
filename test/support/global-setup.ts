/**
 * Vitest global setup: starts the services the integration tests share, once per test run — a real
 * PostgreSQL server (Debian package) whose URL reaches the tests as CAPSTAN_TEST_PG_URL, and the
 * Kubernetes test control plane (kube-apiserver, kube-scheduler, etcd, kwok) whose kubeconfig
 * reaches them as CAPSTAN_TEST_KUBECONFIG — and rebuilds dist/ when sources are newer, for tests
 * that spawn the `capstan` command.
 */
import { ensureBuilt } from "./build.js";
import { KUBE_TESTENV_KUBECONFIG_ENV, startKubeTestenv, type KubeTestenv } from "./kube-testenv.js";
import { startTestPostgres, type TestPostgres } from "./postgres.js";

let postgres: TestPostgres | undefined;
let kube: KubeTestenv | undefined;

export default async function setup(): Promise<() => Promise<void>> {
  ensureBuilt();
  try {
    if (!process.env.CAPSTAN_TEST_PG_URL) {
      postgres = await startTestPostgres();
      process.env.CAPSTAN_TEST_PG_URL = postgres.url;
    }
    if (!process.env[KUBE_TESTENV_KUBECONFIG_ENV]) {
      kube = await startKubeTestenv();
      process.env[KUBE_TESTENV_KUBECONFIG_ENV] = kube.kubeconfigPath;
    }
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
