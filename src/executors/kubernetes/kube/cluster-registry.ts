/**
 * The clusters Capstan can send pods to, by name: for each, a KubeConfig loaded from its kubeconfig
 * file and context (or the pod's service account), its API clients, and its default namespace. A
 * cluster that cannot be loaded keeps the reason, so tasks that use it fail with that reason while
 * the other clusters work.
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { CountedKubeConfig } from "./counted-kube-config.js";
import { defaultClusterName, type ClusterSettings } from "./cluster-config.js";
import { ClusterUnavailableError } from "./errors.js";
import { RequestCounter } from "./request-counter.js";

const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** A loaded cluster: its clients and where its pods go by default. */
export interface KubeCluster {
  name: string;
  settings: ClusterSettings;
  config: CountedKubeConfig;
  core: CoreV1Api;
  /** API server URL (for messages). */
  server: string;
  /** Namespace of tasks that name none. */
  namespace: string;
  /** Counts this cluster's requests (and the executor's totals). */
  counter: RequestCounter;
}

function loadCluster(settings: ClusterSettings, counter: RequestCounter): KubeCluster {
  const clusterCounter = counter.forCluster(settings.name);
  const config = new CountedKubeConfig(clusterCounter);
  let contextNamespace: string | undefined;
  if (settings.source.kind === "in-cluster") {
    if (!process.env.KUBERNETES_SERVICE_HOST) {
      throw new ClusterUnavailableError(settings.name, "in_cluster: true, but KUBERNETES_SERVICE_HOST is not set: Capstan is not running in a pod; use kubeconfig: and context: instead");
    }
    config.loadFromCluster();
    try {
      contextNamespace = readFileSync(SERVICE_ACCOUNT_NAMESPACE, "utf8").trim() || undefined;
    } catch {
      contextNamespace = undefined;
    }
  } else {
    const { path, context } = settings.source;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new ClusterUnavailableError(settings.name, `cannot read kubeconfig ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); set clusters.${settings.name}.kubeconfig to a readable kubeconfig file`, { cause: error });
    }
    try {
      config.loadFromString(text);
      config.makePathsAbsolute(dirname(path));
    } catch (error) {
      throw new ClusterUnavailableError(settings.name, `kubeconfig ${path} is not a valid kubeconfig: ${(error as Error).message}`, { cause: error });
    }
    const names = config.getContexts().map((c) => c.name);
    const wanted = context ?? config.getCurrentContext();
    if (!wanted) {
      throw new ClusterUnavailableError(settings.name, `kubeconfig ${path} has no current-context; set clusters.${settings.name}.context to one of: ${names.join(", ") || "(none)"}`);
    }
    const contextObject = config.getContextObject(wanted);
    if (!contextObject) {
      throw new ClusterUnavailableError(settings.name, `context ${JSON.stringify(wanted)} is not in kubeconfig ${path}; contexts there: ${names.join(", ") || "(none)"}`);
    }
    config.setCurrentContext(wanted);
    if (!config.getCurrentCluster()) {
      throw new ClusterUnavailableError(settings.name, `context ${JSON.stringify(wanted)} of kubeconfig ${path} names cluster ${JSON.stringify(contextObject.cluster)}, which is not in the file`);
    }
    contextNamespace = contextObject.namespace;
  }
  const server = config.getCurrentCluster()?.server ?? "";
  return {
    name: settings.name,
    settings,
    config,
    core: config.makeApiClient(CoreV1Api),
    server,
    namespace: settings.namespace ?? contextNamespace ?? "default",
    counter: clusterCounter,
  };
}

/** Every configured cluster, loaded once; unusable ones keep their error. */
export class KubeClusters {
  readonly counter: RequestCounter;
  readonly #settings: ReadonlyMap<string, ClusterSettings>;
  readonly #loaded = new Map<string, KubeCluster | ClusterUnavailableError>();
  readonly defaultCluster: string | undefined;

  constructor(settings: ReadonlyMap<string, ClusterSettings>, counter = new RequestCounter()) {
    this.#settings = settings;
    this.counter = counter;
    this.defaultCluster = defaultClusterName(settings);
    for (const name of settings.keys()) this.#load(name);
  }

  #load(name: string): KubeCluster | ClusterUnavailableError | undefined {
    const settings = this.#settings.get(name);
    if (!settings) return undefined;
    let entry = this.#loaded.get(name);
    if (!entry) {
      try {
        entry = loadCluster(settings, this.counter);
      } catch (error) {
        entry = error instanceof ClusterUnavailableError ? error : new ClusterUnavailableError(name, (error as Error).message, { cause: error });
      }
      this.#loaded.set(name, entry);
    }
    return entry;
  }

  /** Names of the configured clusters, in the order of capstan.yaml. */
  names(): string[] {
    return [...this.#settings.keys()];
  }

  /** A cluster's settings, or undefined when it is not configured. */
  settings(name: string): ClusterSettings | undefined {
    return this.#settings.get(name);
  }

  /** The cluster's clients; throws ClusterUnavailableError when it is unknown or cannot be loaded. */
  get(name: string): KubeCluster {
    const entry = this.#load(name);
    if (entry === undefined) {
      throw new ClusterUnavailableError(name, `no cluster ${JSON.stringify(name)} is configured; clusters in capstan.yaml: ${this.names().join(", ") || "(none)"}`);
    }
    if (entry instanceof ClusterUnavailableError) throw entry;
    return entry;
  }

  /** Why a cluster cannot be used, or undefined when it can. */
  problem(name: string): string | undefined {
    try {
      this.get(name);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** The cluster a task runs on: its own `cluster:`, else the default. */
  resolveName(taskCluster: string | undefined): string {
    return taskCluster ?? this.defaultCluster ?? "";
  }

  /** Closes pooled connections. */
  close(): void {
    for (const entry of this.#loaded.values()) if (!(entry instanceof ClusterUnavailableError)) entry.config.destroy();
  }
}
