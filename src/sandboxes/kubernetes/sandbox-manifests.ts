/**
 * The Kubernetes objects of one sandbox, built from its launch: deterministic names keyed by the
 * sandbox's random id (never by owner or name), the labels `capstan.dev/sandbox` selects on, the
 * pod (profile image, cpu/memory/GPU, the cluster's tolerations and GPU placement), the home PVC
 * (RWO, kept on stop), the token Secret, the Service and the NetworkPolicy that admits only Capstan.
 */
import type { V1NetworkPolicy, V1PersistentVolumeClaim, V1Pod, V1Secret, V1Service, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { labelValue, type ClusterSettings } from "../../executors/kubernetes/kube/index.js";
import type { SandboxLaunch, SandboxSshEndpoint } from "../backend.js";

/** The label every object of a sandbox carries, with the sandbox's id as its value. */
export const SANDBOX_LABEL = "capstan.dev/sandbox";
/** Sandbox objects are managed by the sandbox backend, not by the pod executor (whose informers select `capstan`). */
export const SANDBOX_MANAGED_BY = "capstan-sandboxes";
export const SANDBOX_SELECTOR = `capstan.dev/managed-by=${SANDBOX_MANAGED_BY}`;
export const SANDBOX_ANNOTATIONS = { owner: "capstan.dev/sandbox-owner", team: "capstan.dev/sandbox-team", name: "capstan.dev/sandbox-name" } as const;

/** The container that runs JupyterLab (and code-server, sshd) in the sandbox image. */
export const SANDBOX_CONTAINER = "sandbox";
export const JUPYTER_PORT = 8888;
export const SSH_PORT = 2222;
/** The home inside the image (deploy/sandbox/Containerfile: user `sandbox`, uid 1000). */
export const SANDBOX_HOME = "/home/sandbox";
export const SANDBOX_UID = 1000;

/** Names of a sandbox's objects: a function of its id alone, so a restart finds the same ones. */
export interface SandboxObjectNames {
  pod: string;
  home: string;
  service: string;
  policy: string;
  secret: string;
}

export function sandboxObjectNames(id: string): SandboxObjectNames {
  const base = `sandbox-${id}`;
  return { pod: base, home: `${base}-home`, service: base, policy: base, secret: `${base}-token` };
}

/** Who may open connections to a sandbox pod: Capstan's own pods (and namespace, when Capstan runs elsewhere). */
export interface CapstanPeer {
  podLabels: Record<string, string>;
  /** Labels of Capstan's namespace; absent: the sandbox's own namespace. */
  namespaceLabels?: Record<string, string>;
}

/** Capstan's pods as its Helm chart or manifests label them. */
export const DEFAULT_CAPSTAN_PEER: CapstanPeer = { podLabels: { "app.kubernetes.io/name": "capstan" } };

export interface SandboxManifestInput {
  launch: SandboxLaunch;
  cluster: ClusterSettings;
  namespace: string;
  /** PVC names of the profile's team volumes, in the profile's order. */
  sharedClaims: string[];
  homeStorageClass: string | undefined;
  homeSize: string;
  capstan: CapstanPeer;
  /** Metadata and spec fields every sandbox pod on this cluster starts from (the cluster's pod template). */
  template: V1Pod | undefined;
}

export interface SandboxManifests {
  names: SandboxObjectNames;
  pod: V1Pod;
  home: V1PersistentVolumeClaim;
  secret: V1Secret;
  service: V1Service;
  policy: V1NetworkPolicy;
}

function labelsOf(launch: SandboxLaunch): Record<string, string> {
  return {
    [SANDBOX_LABEL]: launch.id,
    "capstan.dev/managed-by": SANDBOX_MANAGED_BY,
    "capstan.dev/sandbox-owner": labelValue(launch.owner),
    "capstan.dev/sandbox-team": labelValue(launch.team),
  };
}

function annotationsOf(launch: SandboxLaunch): Record<string, string> {
  return { [SANDBOX_ANNOTATIONS.owner]: launch.owner, [SANDBOX_ANNOTATIONS.team]: launch.team, [SANDBOX_ANNOTATIONS.name]: launch.name };
}

/** CPU cores as a Kubernetes quantity in millicores. */
function cpuQuantity(cores: number): string {
  return `${Math.max(1, Math.round(cores * 1000))}m`;
}

/** Builds every object of a sandbox. */
export function buildSandboxManifests(input: SandboxManifestInput): SandboxManifests {
  const { launch, cluster, namespace } = input;
  const names = sandboxObjectNames(launch.id);
  const labels = labelsOf(launch);
  const annotations = annotationsOf(launch);
  const meta = (name: string) => ({ name, namespace, labels: { ...labels }, annotations: { ...annotations } });
  const profile = launch.profile;

  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (profile.cpu !== null) requests.cpu = limits.cpu = cpuQuantity(profile.cpu);
  if (profile.memory !== null) requests.memory = limits.memory = String(profile.memory);
  if (profile.gpu > 0) requests[cluster.gpuResource] = limits[cluster.gpuResource] = String(profile.gpu);

  const volumes: V1Volume[] = [{ name: "home", persistentVolumeClaim: { claimName: names.home } }];
  const mounts: V1VolumeMount[] = [{ name: "home", mountPath: SANDBOX_HOME }];
  profile.volumes.forEach((volume, i) => {
    const claimName = input.sharedClaims[i] ?? "";
    volumes.push({ name: `shared-${i}`, persistentVolumeClaim: { claimName } });
    mounts.push({ name: `shared-${i}`, mountPath: `${SANDBOX_HOME}/${volume.path}` });
  });

  const template = structuredClone<V1Pod>(input.template ?? {});
  const templateSpec = template.spec ?? { containers: [] };
  const tolerations = [...(templateSpec.tolerations ?? []), ...cluster.tolerations, ...(profile.gpu > 0 ? cluster.gpuTolerations : [])];
  const nodeSelector = { ...(templateSpec.nodeSelector ?? {}), ...cluster.nodeSelector, ...(profile.gpu > 0 ? cluster.gpuNodeSelector : {}) };
  const pullSecrets = [...(templateSpec.imagePullSecrets ?? []), ...cluster.imagePullSecrets.map((name) => ({ name }))];

  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...meta(names.pod),
      labels: { ...(template.metadata?.labels ?? {}), ...labels },
      annotations: { ...(template.metadata?.annotations ?? {}), ...annotations },
    },
    spec: {
      ...templateSpec,
      // JupyterLab exiting is a crash the service records; the user starts the sandbox again.
      restartPolicy: "Never",
      // Code in a sandbox gets no credential of the cluster and no other service's address.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(cluster.serviceAccount ? { serviceAccountName: cluster.serviceAccount } : {}),
      securityContext: { ...(templateSpec.securityContext ?? {}), fsGroup: SANDBOX_UID },
      ...(tolerations.length > 0 ? { tolerations } : {}),
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
      ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets } : {}),
      terminationGracePeriodSeconds: Math.ceil(cluster.terminationGraceMs / 1000),
      volumes: [...(templateSpec.volumes ?? []), ...volumes],
      containers: [
        {
          name: SANDBOX_CONTAINER,
          image: profile.image ?? cluster.image ?? "",
          env: [
            // JupyterLab (jupyter_server) and the image's start script read the token from here.
            { name: "JUPYTER_TOKEN", valueFrom: { secretKeyRef: { name: names.secret, key: "token" } } },
            { name: "CAPSTAN_SANDBOX_ID", value: launch.id },
            { name: "HOME", value: SANDBOX_HOME },
          ],
          ports: [
            { name: "jupyter", containerPort: JUPYTER_PORT },
            { name: "ssh", containerPort: SSH_PORT },
          ],
          // GET /api answers without a token once the server is up: the kubelet says when it is Ready.
          readinessProbe: { httpGet: { path: "/api", port: JUPYTER_PORT }, periodSeconds: 2, failureThreshold: 3 },
          resources: { ...(Object.keys(requests).length > 0 ? { requests } : {}), ...(Object.keys(limits).length > 0 ? { limits } : {}) },
          securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: SANDBOX_UID },
          volumeMounts: mounts,
          workingDir: SANDBOX_HOME,
        },
        ...templateSpec.containers.filter((c) => c.name !== SANDBOX_CONTAINER),
      ],
    },
  };

  const home: V1PersistentVolumeClaim = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: meta(names.home),
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(input.homeStorageClass !== undefined ? { storageClassName: input.homeStorageClass } : {}),
      resources: { requests: { storage: input.homeSize } },
    },
  };

  const secret: V1Secret = { apiVersion: "v1", kind: "Secret", metadata: meta(names.secret), type: "Opaque", stringData: { token: launch.token } };

  const service: V1Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(names.service),
    spec: {
      type: "ClusterIP",
      selector: { [SANDBOX_LABEL]: launch.id },
      ports: [
        { name: "jupyter", port: JUPYTER_PORT, targetPort: JUPYTER_PORT },
        { name: "ssh", port: SSH_PORT, targetPort: SSH_PORT },
      ],
    },
  };

  const from = input.capstan.namespaceLabels
    ? { podSelector: { matchLabels: input.capstan.podLabels }, namespaceSelector: { matchLabels: input.capstan.namespaceLabels } }
    : { podSelector: { matchLabels: input.capstan.podLabels } };
  const policy: V1NetworkPolicy = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: meta(names.policy),
    spec: {
      podSelector: { matchLabels: { [SANDBOX_LABEL]: launch.id } },
      policyTypes: ["Ingress"],
      ingress: [{ _from: [from], ports: [{ protocol: "TCP", port: JUPYTER_PORT }, { protocol: "TCP", port: SSH_PORT }] }],
    },
  };

  return { names, pod, home, secret, service, policy };
}

/** The base URL of a sandbox's JupyterLab inside the cluster (Capstan runs there, or reaches the cluster's service network). */
export function sandboxUpstream(names: SandboxObjectNames, namespace: string): string {
  return `http://${names.service}.${namespace}.svc:${JUPYTER_PORT}/`;
}

/** The user the sandbox image's sshd lets in (deploy/sandbox/Containerfile). */
export const SANDBOX_SSH_USER = "sandbox";

/** Where the sandbox's sshd answers for Capstan's SSH tunnel: its Service, port 2222 (the NetworkPolicy admits only Capstan). */
export function sandboxSshEndpoint(names: SandboxObjectNames, namespace: string): SandboxSshEndpoint {
  return { host: `${names.service}.${namespace}.svc`, port: SSH_PORT, user: SANDBOX_SSH_USER };
}
