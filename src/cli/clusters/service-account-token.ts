/**
 * Reads what Capstan needs to act as a ServiceAccount of another cluster (the account created by
 * deploy/helm/capstan-cluster or deploy/kustomize/overlays/gpu-cluster): the API server's URL, its
 * CA, and the long-lived token the cluster's token controller wrote into the account's
 * `kubernetes.io/service-account-token` Secret. The admin's own kubeconfig context is used to read
 * them; every refusal says what is wrong and what to do.
 */
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { ClientError } from "../errors.js";

const TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token";
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Where to read the account's token from. */
export interface ServiceAccountTokenSource {
  /** The admin's kubeconfig file. */
  adminKubeconfig: string;
  /** The admin's context for the other cluster. */
  context: string;
  /** Namespace of the ServiceAccount and its token Secret; default: the context's, else "default". */
  namespace?: string;
  serviceAccount: string;
  /** The token Secret's name; default `<serviceAccount>-token` (as the chart and overlay name it). */
  secret?: string;
}

/** The credentials of the account, ready for a kubeconfig. */
export interface ServiceAccountToken {
  server: string;
  /** PEM of the CA that signed the API server's certificate, base64 (kubeconfig's certificate-authority-data). */
  caData?: string;
  /** The admin's context skips TLS verification; the new entry does too. */
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  namespace: string;
  serviceAccount: string;
  secret: string;
  token: string;
}

/** Reads the token Secret through the admin's context; throws a ClientError naming the problem. */
export async function readServiceAccountToken(source: ServiceAccountTokenSource): Promise<ServiceAccountToken> {
  if (!OBJECT_NAME.test(source.serviceAccount)) throw new ClientError(`--service-account ${JSON.stringify(source.serviceAccount)}: not a ServiceAccount name (lower-case letters, digits, '-' and '.')`);
  if (source.secret !== undefined && !OBJECT_NAME.test(source.secret)) throw new ClientError(`--token-secret ${JSON.stringify(source.secret)}: not a Secret name (lower-case letters, digits, '-' and '.')`);
  if (source.namespace !== undefined && !NAMESPACE.test(source.namespace)) {
    throw new ClientError(`--namespace ${JSON.stringify(source.namespace)}: not a namespace name (lower-case letters, digits and '-', starting and ending with a letter or digit)`);
  }
  const config = loadAdminContext(source.adminKubeconfig, source.context);
  const context = config.getContextObject(source.context);
  const cluster = config.getCurrentCluster();
  if (!context || !cluster) throw new ClientError(`context ${JSON.stringify(source.context)} of ${source.adminKubeconfig} names no cluster in that file`);
  const namespace = source.namespace ?? context.namespace ?? "default";
  const secretName = source.secret ?? `${source.serviceAccount}-token`;
  const where = `Secret ${namespace}/${secretName} (context ${source.context}, ${cluster.server})`;

  let secret;
  try {
    secret = await config.makeApiClient(CoreV1Api).readNamespacedSecret({ name: secretName, namespace });
  } catch (error) {
    if (error instanceof ApiException) {
      const code = Number(error.code);
      if (code === 404) {
        throw new ClientError(`${where} does not exist: install deploy/helm/capstan-cluster (helm install … --namespace ${namespace}) or apply deploy/kustomize/overlays/gpu-cluster there first, or name the account's namespace with --namespace and its token Secret with --token-secret`);
      }
      if (code === 401 || code === 403) throw new ClientError(`${where}: the context's user may not read it (HTTP ${code}); use a context that may read Secrets in ${namespace}`);
      throw new ClientError(`${where}: the API server answered HTTP ${code}`);
    }
    throw new ClientError(`${where}: could not reach the API server: ${(error as Error).message}`);
  }

  if (secret.type !== TOKEN_SECRET_TYPE) throw new ClientError(`${where} is of type ${JSON.stringify(secret.type ?? "")}, not ${TOKEN_SECRET_TYPE}; name the account's token Secret with --token-secret`);
  const owner = secret.metadata?.annotations?.["kubernetes.io/service-account.name"];
  if (owner !== source.serviceAccount) {
    throw new ClientError(`${where} belongs to ServiceAccount ${JSON.stringify(owner ?? "")}, not ${JSON.stringify(source.serviceAccount)}; name the account with --service-account`);
  }
  const token = Buffer.from(secret.data?.token ?? "", "base64").toString("utf8");
  if (token === "") {
    throw new ClientError(
      `${where} has no token yet: the cluster's token controller (in kube-controller-manager) fills in data.token a moment after the Secret is created. ` +
        `Run this again in a few seconds; if it stays empty, check that ServiceAccount ${namespace}/${source.serviceAccount} exists and that the controller manager runs`,
    );
  }
  const caData = secret.data?.["ca.crt"] ?? adminCaData(cluster.caData, cluster.caFile);
  if (caData === undefined && cluster.skipTLSVerify !== true) {
    throw new ClientError(`${where} has no ca.crt and context ${source.context} names no certificate authority: the new entry could not verify ${cluster.server}`);
  }
  return {
    server: cluster.server,
    ...(caData === undefined ? {} : { caData }),
    insecureSkipTlsVerify: cluster.skipTLSVerify === true && caData === undefined,
    ...(cluster.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
    namespace,
    serviceAccount: source.serviceAccount,
    secret: secretName,
    token,
  };
}

function loadAdminContext(path: string, context: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ClientError(`cannot read the kubeconfig ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); name the file that holds context ${JSON.stringify(context)} with --admin-kubeconfig`);
  }
  const config = new KubeConfig();
  try {
    config.loadFromString(text);
    config.makePathsAbsolute(dirname(path));
  } catch (error) {
    throw new ClientError(`${path} is not a valid kubeconfig: ${(error as Error).message}`);
  }
  if (!config.getContextObject(context)) {
    const names = config.getContexts().map((c) => c.name);
    throw new ClientError(`--from-context ${JSON.stringify(context)} is not in ${path}; contexts there: ${names.join(", ") || "(none)"}`);
  }
  config.setCurrentContext(context);
  return config;
}

function adminCaData(caData: string | undefined, caFile: string | undefined): string | undefined {
  if (caData) return caData;
  if (!caFile) return undefined;
  try {
    return readFileSync(caFile).toString("base64");
  } catch (error) {
    throw new ClientError(`cannot read the certificate authority file ${caFile} of the admin's context (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
