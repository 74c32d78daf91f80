/**
 * A real Kubernetes control plane for tests, without a container engine: etcd, kube-apiserver,
 * kube-scheduler and kwok (which plays the kubelet of two fake nodes, "kwok-cpu" and a tainted
 * "kwok-gpu" with nvidia.com/gpu: 8), all on free loopback ports with a temporary data folder.
 * Pods do not run; kwok moves them through phases chosen by labels and annotations
 * (see podBehaviour and docs/kube-testenv.md).
 *
 * Vitest's global setup starts one environment and passes its kubeconfig to the test files in
 * CAPSTAN_TEST_KUBECONFIG; a test file calls acquireKubeTestenv(), which connects to that one or
 * starts its own when the variable is unset.
 */
import { ApiextensionsV1Api, CoreV1Api, KubeConfig, type V1CustomResourceDefinition, type V1Node } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { ensureKubeBinaries, kubeTestenvScriptsDir, type KubeBinaries } from "../kube/testenv/binaries.js";
import { KubeTestenvError } from "../kube/testenv/errors.js";
import { createPki } from "../kube/testenv/pki.js";
import { toCriLog } from "../kube/testenv/pod-logs.js";
import { logTail, ProcessGroup, type ComponentProcess } from "../kube/testenv/processes.js";

export { ensureKubeBinaries, type KubeBinaries } from "../kube/testenv/binaries.js";
export { KubeTestenvError } from "../kube/testenv/errors.js";
export {
  BEHAVIOUR_ANNOTATIONS,
  KUBE_TESTENV_PREFIX,
  OUTCOME_LABEL,
  podBehaviour,
  type PodBehaviour,
  type PodBehaviourMetadata,
  type PodOutcome,
} from "../kube/testenv/pod-behaviour.js";
export { setPodLog, toCriLog, type SetPodLogOptions } from "../kube/testenv/pod-logs.js";

/** Environment variable through which the global setup hands its kubeconfig to test files. */
export const KUBE_TESTENV_KUBECONFIG_ENV = "CAPSTAN_TEST_KUBECONFIG";

/** The fake GPU node: its label, taint and extended resource. */
export const GPU_NODE = {
  name: "kwok-gpu",
  label: { key: "nvidia.com/gpu.present", value: "true" },
  taint: { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" },
  resource: "nvidia.com/gpu",
  count: 8,
} as const;

/** The fake CPU node (no taint). */
export const CPU_NODE = { name: "kwok-cpu" } as const;

/** A kubeconfig context of the environment and its default namespace. */
export interface KubeTestenvContext {
  name: string;
  namespace: string;
}

/** A running test control plane. */
export interface KubeTestenv {
  /** Kubeconfig with the contexts below (current context: cpu); a system:masters token. */
  kubeconfigPath: string;
  /** API server URL, https://127.0.0.1:PORT. */
  server: string;
  /** Two contexts on the same API server, to stand for two clusters. */
  contexts: { cpu: KubeTestenvContext; gpu: KubeTestenvContext };
  /** Node names. */
  nodes: { cpu: string; gpu: string };
  /** The environment's folder (kubeconfig, certificates, component logs, etcd data). */
  dir: string;
  /** Folder of pod log files (see setPodLog). */
  logsDir: string;
  /** Stops the processes and removes the folder it created; a no-op for a connected environment. */
  stop(): Promise<void>;
}

/** Options of {@link startKubeTestenv}. */
export interface StartKubeTestenvOptions {
  /** Folder for the environment's files; a new temporary folder (removed on stop) when absent. */
  dir?: string;
  /** Where build progress goes if the binaries must be built; default stderr. */
  progress?: NodeJS.WritableStream;
}

/** What an environment records in its folder, so that other processes can connect to it. */
interface TestenvInfo {
  server: string;
  contexts: { cpu: KubeTestenvContext; gpu: KubeTestenvContext };
  nodes: { cpu: string; gpu: string };
  logsDir: string;
}

const INFO_FILE = "testenv.json";
const CONTEXTS = {
  cpu: { name: "cpu", namespace: "capstan-cpu" },
  gpu: { name: "gpu", namespace: "capstan-gpu" },
} as const;
const READY_TIMEOUT_MS = 90_000;
const START_ATTEMPTS = 3;

/**
 * Starts etcd, kube-apiserver, kube-scheduler and kwok, builds the binaries first when they are
 * not cached, and resolves once /readyz is ok and both nodes are Ready.
 */
export async function startKubeTestenv(options: StartKubeTestenvOptions = {}): Promise<KubeTestenv> {
  const binaries = await ensureKubeBinaries(options.progress === undefined ? {} : { progress: options.progress });
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "capstan-kube-")));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(binaries, dir, ownDir);
    } catch (error) {
      const portTaken = error instanceof KubeTestenvError && /address already in use/.test(error.message);
      if (!portTaken || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/** Connects to an environment another process started, from its kubeconfig path; stop() does nothing. */
export async function connectKubeTestenv(kubeconfigPath: string): Promise<KubeTestenv> {
  const dir = dirname(kubeconfigPath);
  let info: TestenvInfo;
  try {
    info = JSON.parse(await readFile(join(dir, INFO_FILE), "utf8")) as TestenvInfo;
  } catch (error) {
    throw new KubeTestenvError(
      "setup",
      `${kubeconfigPath} is not the kubeconfig of a kube-testenv (no readable ${INFO_FILE} beside it); ` +
        `set ${KUBE_TESTENV_KUBECONFIG_ENV} to the kubeconfigPath that startKubeTestenv returned`,
      { cause: error },
    );
  }
  return { ...info, kubeconfigPath, dir, stop: () => Promise.resolve() };
}

/**
 * The environment for a test file: the shared one named by CAPSTAN_TEST_KUBECONFIG, or else a
 * new one that the caller stops.
 */
export async function acquireKubeTestenv(options: StartKubeTestenvOptions = {}): Promise<KubeTestenv> {
  const shared = process.env[KUBE_TESTENV_KUBECONFIG_ENV];
  if (shared !== undefined && shared !== "") return connectKubeTestenv(shared);
  return startKubeTestenv(options);
}

async function startOnce(binaries: KubeBinaries, dir: string, ownDir: boolean): Promise<KubeTestenv> {
  const logsDir = join(dir, "pod-logs");
  await rm(join(dir, "etcd-data"), { recursive: true, force: true });
  await mkdir(logsDir, { recursive: true });
  const [etcdPort, etcdPeerPort, apiPort, kwokPort, schedulerPort] = await freePorts(5);
  const server = `https://127.0.0.1:${apiPort}`;
  const pki = await createPki(join(dir, "pki"));
  const token = randomBytes(24).toString("hex");
  await writeFile(join(dir, "tokens.csv"), `${token},capstan-admin,capstan-admin,"system:masters"\n`, { mode: 0o600 });
  const kubeconfigPath = join(dir, "kubeconfig");
  await writeFile(kubeconfigPath, kubeconfigYaml(server, pki.caPem, token), { mode: 0o600 });

  const group = new ProcessGroup();
  const stop = async (): Promise<void> => {
    await group.stop();
    if (ownDir && process.env.CAPSTAN_KUBE_KEEP_DIR !== "1") await rm(dir, { recursive: true, force: true });
  };
  try {
    const etcd = group.start("etcd", binaries.etcd, [
      "--name=testenv",
      `--data-dir=${join(dir, "etcd-data")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=testenv=http://127.0.0.1:${etcdPeerPort}`,
      "--unsafe-no-fsync",
      "--log-level=warn",
    ], join(dir, "etcd.log"));
    await waitFor(group, etcd, "etcd /health", async () => {
      const response = await fetch(`http://127.0.0.1:${etcdPort}/health`);
      return response.ok && ((await response.json()) as { health?: string }).health === "true";
    });

    const apiserver = group.start("kube-apiserver", binaries.kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-cluster-ip-range=10.96.0.0/16",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      // TaintNodesByCondition would taint new nodes not-ready, and no node lifecycle controller runs to lift it.
      "--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
      "--allow-privileged=true",
      "--kubelet-preferred-address-types=InternalIP",
      "--profiling=false",
      "--endpoint-reconciler-type=none",
    ], join(dir, "kube-apiserver.log"));
    await waitFor(group, apiserver, "kube-apiserver /readyz", async () => {
      const body = await httpsGet(`${server}/readyz`, pki.caPem, token);
      return body === "ok";
    });

    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    const core = config.makeApiClient(CoreV1Api);
    for (const context of Object.values(CONTEXTS)) {
      await core.createNamespace({ body: { metadata: { name: context.namespace } } });
    }
    await installCrd(config, binaries.kwokLogsCrd);
    for (const node of fakeNodes()) await core.createNode({ body: node });

    const defaultLog = join(logsDir, "default.log");
    await writeFile(defaultLog, toCriLog("kube-testenv: no log was set for this pod (see setPodLog)\n"));
    const kwokConfig = join(dir, "kwok.yaml");
    await writeFile(kwokConfig, kwokConfigYaml(defaultLog));
    const kwok = group.start("kwok", binaries.kwok, [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${kwokConfig}`,
      `--config=${join(kubeTestenvScriptsDir, "stages", "node-stages.yaml")}`,
      `--config=${join(kubeTestenvScriptsDir, "stages", "pod-stages.yaml")}`,
      "--manage-all-nodes=true",
      "--node-ip=127.0.0.1",
      `--node-port=${kwokPort}`,
      `--server-address=127.0.0.1:${kwokPort}`,
      "--enable-crds=Logs",
    ], join(dir, "kwok.log"));

    const schedulerConfig = join(dir, "kube-scheduler.yaml");
    await writeFile(schedulerConfig, schedulerConfigYaml(kubeconfigPath));
    const scheduler = group.start("kube-scheduler", binaries.kubeScheduler, [
      `--config=${schedulerConfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${schedulerPort}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
    ], join(dir, "kube-scheduler.log"));

    await waitFor(group, kwok, "both nodes Ready", async () => {
      group.assertRunning(scheduler);
      const nodes = await core.listNode();
      const ready = nodes.items.filter((node) =>
        node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return ready.length === 2;
    });
    await waitFor(group, scheduler, "kube-scheduler /readyz", async () => {
      const body = await httpsGet(`https://127.0.0.1:${schedulerPort}/readyz`, undefined, undefined);
      return body === "ok";
    });

    const info: TestenvInfo = {
      server,
      contexts: { cpu: { ...CONTEXTS.cpu }, gpu: { ...CONTEXTS.gpu } },
      nodes: { cpu: CPU_NODE.name, gpu: GPU_NODE.name },
      logsDir,
    };
    await writeFile(join(dir, INFO_FILE), JSON.stringify(info, null, 2));
    return { ...info, kubeconfigPath, dir, stop };
  } catch (error) {
    await group.stop();
    throw error;
  }
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const cluster = "capstan-kube-testenv";
  const user = "capstan-admin";
  return stringifyYaml({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: cluster, cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") } }],
    users: [{ name: user, user: { token } }],
    contexts: Object.values(CONTEXTS).map((c) => ({ name: c.name, context: { cluster, user, namespace: c.namespace } })),
    "current-context": CONTEXTS.cpu.name,
  });
}

function kwokConfigYaml(defaultLog: string): string {
  const documents = [
    {
      apiVersion: "config.kwok.x-k8s.io/v1alpha1",
      kind: "KwokConfiguration",
      // kwok applies no defaults to a loaded configuration, so every option is spelled out.
      options: {
        cidr: "10.0.0.0/16",
        manageAllNodes: true,
        enableDebuggingHandlers: true,
        enableProfilingHandler: false,
        enableContentionProfiling: false,
        podPlayStageParallelism: 16,
        nodePlayStageParallelism: 4,
        nodeLeaseParallelism: 4,
        podsOnNodeSyncParallelism: 1,
        enablePodsOnNodeSyncListPager: true,
        enablePodsOnNodeSyncStreamWatch: false,
      },
    },
    {
      apiVersion: "kwok.x-k8s.io/v1alpha1",
      kind: "ClusterLogs",
      metadata: { name: "capstan-default-logs" },
      spec: { logs: [{ logsFile: defaultLog, follow: true }] },
    },
  ];
  return documents.map((document) => stringifyYaml(document)).join("---\n");
}

function schedulerConfigYaml(kubeconfigPath: string): string {
  return stringifyYaml({
    apiVersion: "kubescheduler.config.k8s.io/v1",
    kind: "KubeSchedulerConfiguration",
    clientConnection: { kubeconfig: kubeconfigPath, qps: 1000, burst: 2000 },
    leaderElection: { leaderElect: false },
  });
}

function fakeNodes(): V1Node[] {
  const common = { "kwok.x-k8s.io/node": "fake" };
  return [
    {
      metadata: {
        name: CPU_NODE.name,
        labels: { type: "kwok", "kubernetes.io/hostname": CPU_NODE.name, "kubernetes.io/os": "linux" },
        annotations: common,
      },
      status: {
        capacity: { cpu: "64", memory: "256Gi", pods: "2000" },
        allocatable: { cpu: "64", memory: "256Gi", pods: "2000" },
      },
    },
    {
      metadata: {
        name: GPU_NODE.name,
        labels: {
          type: "kwok",
          "kubernetes.io/hostname": GPU_NODE.name,
          "kubernetes.io/os": "linux",
          [GPU_NODE.label.key]: GPU_NODE.label.value,
        },
        annotations: common,
      },
      spec: { taints: [{ ...GPU_NODE.taint }] },
      status: {
        capacity: { cpu: "64", memory: "512Gi", pods: "110", [GPU_NODE.resource]: String(GPU_NODE.count) },
        allocatable: { cpu: "64", memory: "512Gi", pods: "110", [GPU_NODE.resource]: String(GPU_NODE.count) },
      },
    },
  ];
}

async function installCrd(config: KubeConfig, file: string): Promise<void> {
  const crd = parseYaml(await readFile(file, "utf8")) as V1CustomResourceDefinition;
  const api = config.makeApiClient(ApiextensionsV1Api);
  await api.createCustomResourceDefinition({ body: crd });
  const name = crd.metadata?.name ?? "";
  const deadline = Date.now() + 30_000;
  for (;;) {
    const current = await api.readCustomResourceDefinition({ name });
    if (current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) return;
    if (Date.now() > deadline)
      throw new KubeTestenvError("setup", `CustomResourceDefinition ${name} from ${file} was not Established within 30 s`);
    await sleep(100);
  }
}

/** Polls `check` until it returns true; fails when `component` exits or after READY_TIMEOUT_MS. */
async function waitFor(
  group: ProcessGroup,
  component: ComponentProcess,
  what: string,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    group.assertRunning(component);
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof KubeTestenvError) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
      throw new KubeTestenvError(
        component.name,
        `${what} not reached within ${READY_TIMEOUT_MS / 1000} s${cause}; last lines of ${component.logFile}:\n${logTail(component.logFile)}`,
        { logFile: component.logFile, cause: lastError },
      );
    }
    await sleep(100);
  }
}

/** GET over HTTPS; verifies against `caPem` when given (else accepts the self-signed certificate). */
function httpsGet(url: string, caPem: string | undefined, token: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        ...(caPem === undefined ? { rejectUnauthorized: false } : { ca: caPem }),
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        timeout: 5_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve(body));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** Distinct free TCP ports on 127.0.0.1 (held open together so that they differ). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server));
      });
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address for a free port");
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}
