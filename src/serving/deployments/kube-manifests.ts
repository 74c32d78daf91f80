/**
 * The Kubernetes objects of a deployment, with deterministic names (`capstan-serve-NAME`) and the
 * label capstan.dev/deployment: a ConfigMap with config.properties (TorchServe's addresses on
 * 0.0.0.0:8080/8081/8082), a Deployment whose pods run `capstan serve --model MODEL@VERSION` (the
 * version pinned, so a new version is a new pod template and Kubernetes rolls it with maxSurge 1,
 * maxUnavailable 0), and a Service on port 8080. Pods fetch the archive from the platform's API with
 * the server URL and token of the Secret `capstan-serving` (keys server, token) in the namespace.
 */
import type { V1ConfigMap, V1Deployment, V1Service, V1Toleration } from "@kubernetes/client-node";
import type { ClusterSettings } from "../../executors/kubernetes/kube/index.js";
import type { StoredDeployment } from "../../store/index.js";

export const DEPLOYMENT_LABEL = "capstan.dev/deployment";
export const VERSION_LABEL = "capstan.dev/model-version";
/** The Secret (in the deployment's namespace) whose keys `server` and `token` let pods fetch archives. */
export const SERVING_SECRET = "capstan-serving";
const MANAGED_BY = { "capstan.dev/managed-by": "capstan" };

/** The name of the Deployment, the Service and the ConfigMap of deployment `name`. */
export function kubeObjectName(name: string): string {
  return `capstan-serve-${name}`;
}

export interface DeploymentObjects {
  configMap: V1ConfigMap;
  deployment: V1Deployment;
  service: V1Service;
}

/** The objects for `row` serving `version` on a cluster with `settings`; throws when the cluster names no image. */
export function deploymentObjects(row: StoredDeployment, version: number, settings: ClusterSettings): DeploymentObjects {
  if (!settings.image) throw new Error(`cluster ${settings.name} names no image (clusters.${settings.name}.image in capstan.yaml); its pods run capstan serve from that image`);
  const name = kubeObjectName(row.name);
  const namespace = row.namespace ?? "default";
  const labels = { ...MANAGED_BY, [DEPLOYMENT_LABEL]: row.name, "capstan.dev/model": row.model };
  const gpus = Number(row.gpus);
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (row.cpu) requests.cpu = row.cpu;
  if (row.memory) {
    requests.memory = row.memory;
    limits.memory = row.memory;
  }
  if (gpus > 0) {
    requests[settings.gpuResource] = String(gpus);
    limits[settings.gpuResource] = String(gpus);
  }
  const tolerations: V1Toleration[] = [...settings.tolerations, ...(gpus > 0 ? settings.gpuTolerations : [])].map((t) => ({
    ...(t.key !== undefined ? { key: t.key } : {}),
    ...(t.operator !== undefined ? { operator: t.operator } : {}),
    ...(t.value !== undefined ? { value: t.value } : {}),
    ...(t.effect !== undefined ? { effect: t.effect } : {}),
    ...(t.toleration_seconds !== undefined ? { tolerationSeconds: t.toleration_seconds } : {}),
  }));
  const nodeSelector = { ...settings.nodeSelector, ...(gpus > 0 ? settings.gpuNodeSelector : {}) };
  const secretEnv = (variable: string, key: string) => ({ name: variable, valueFrom: { secretKeyRef: { name: SERVING_SECRET, key } } });
  return {
    configMap: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace, labels },
      data: {
        "config.properties": [
          "inference_address=http://0.0.0.0:8080",
          "management_address=http://127.0.0.1:8081",
          "metrics_address=http://0.0.0.0:8082",
          "default_workers_per_model=1",
          `number_of_gpu=${gpus}`,
          "",
        ].join("\n"),
      },
    },
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace, labels },
      spec: {
        replicas: Number(row.replicas),
        selector: { matchLabels: { [DEPLOYMENT_LABEL]: row.name } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels: { ...labels, [VERSION_LABEL]: String(version) } },
          spec: {
            ...(settings.serviceAccount ? { serviceAccountName: settings.serviceAccount } : {}),
            ...(settings.imagePullSecrets.length > 0 ? { imagePullSecrets: settings.imagePullSecrets.map((s) => ({ name: s })) } : {}),
            ...(tolerations.length > 0 ? { tolerations } : {}),
            ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
            containers: [
              {
                name: "serve",
                image: settings.image,
                command: [...settings.capstan],
                args: ["--server", "$(CAPSTAN_SERVER)", "serve", "--model", `${row.model}@${version}`, "--model-store", "/var/lib/capstan-serve/store", "--ts-config", "/etc/capstan-serve/config.properties", "--disable-token-auth"],
                env: [secretEnv("CAPSTAN_SERVER", "server"), secretEnv("CAPSTAN_TOKEN", "token"), { name: "CAPSTAN_HOME", value: "/var/lib/capstan-serve/home" }],
                ports: [
                  { name: "inference", containerPort: 8080 },
                  { name: "metrics", containerPort: 8082 },
                ],
                readinessProbe: { httpGet: { path: "/ping", port: 8080 }, periodSeconds: 5 },
                ...(Object.keys(requests).length > 0 ? { resources: { requests, ...(Object.keys(limits).length > 0 ? { limits } : {}) } } : {}),
                volumeMounts: [
                  { name: "config", mountPath: "/etc/capstan-serve" },
                  { name: "work", mountPath: "/var/lib/capstan-serve" },
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name } },
              { name: "work", emptyDir: {} },
            ],
          },
        },
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace, labels },
      spec: { selector: { [DEPLOYMENT_LABEL]: row.name }, ports: [{ name: "inference", port: 8080, targetPort: 8080 }] },
    },
  };
}
