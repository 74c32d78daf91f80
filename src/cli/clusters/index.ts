/**
 * `capstan clusters add NAME`: turns the ServiceAccount that deploy/helm/capstan-cluster (or the
 * kustomize overlay gpu-cluster) created in another cluster into a kubeconfig entry for Capstan,
 * written into the kubeconfig file capstan.yaml's clusters use (or printed with --print), and
 * prints the `clusters:` entry to add to capstan.yaml. capstan.yaml itself is not edited.
 */
import type { Command } from "commander";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { configFrom, globalOptions } from "../context.js";
import { ClientError } from "../errors.js";
import { printJson } from "../output.js";
import { entryName, kubeconfigText, writeKubeconfigEntry } from "./kubeconfig-entry.js";

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

interface AddOptions {
  fromContext: string;
  adminKubeconfig?: string;
  namespace?: string;
  serviceAccount: string;
  tokenSecret?: string;
  kubeconfig?: string;
  print?: boolean;
}

export function registerClusterCommands(program: Command): void {
  const clusters = program.command("clusters").description("Kubernetes clusters Capstan runs pods on (capstan.yaml clusters:)");
  clusters
    .command("add <name>")
    .description(
      "write a kubeconfig entry for Capstan's ServiceAccount in another cluster (made by deploy/helm/capstan-cluster or deploy/kustomize/overlays/gpu-cluster), read through your own context, and print the clusters: entry for capstan.yaml",
    )
    .requiredOption("--from-context <context>", "your kubeconfig context for that cluster (it must be allowed to read the token Secret)")
    .option("--admin-kubeconfig <path>", "the kubeconfig holding --from-context (default: $KUBECONFIG's first file, else ~/.kube/config)")
    .option("--namespace <namespace>", "namespace of the ServiceAccount and its token Secret (default: the context's namespace, else default)")
    .option("--service-account <name>", "the ServiceAccount Capstan acts as", "capstan")
    .option("--token-secret <name>", "its token Secret (default: <service-account>-token)")
    .option("--kubeconfig <path>", "the kubeconfig file to write the entry into (default: the one file capstan.yaml's clusters name)")
    .option("--print", "print the kubeconfig (it holds the token) instead of writing a file, e.g. to put it into a Secret")
    .addHelpText(
      "after",
      "\nThe entry's cluster, user and context are all named capstan-<name>; an entry of that name is replaced, others are kept; capstan.yaml itself is not edited.\nExample: capstan clusters add gpu --from-context gpu-admin --namespace ml-gpu --kubeconfig /etc/capstan/clusters.kubeconfig",
    )
    .action(async (name: string, opts: AddOptions, command: Command) => {
      if (!CLUSTER_NAME.test(name)) throw new ClientError(`cluster name ${JSON.stringify(name)}: letters, digits, '_', '-' and '.', starting with a letter or digit, at most 63 characters`);
      const destination = opts.print ? undefined : opts.kubeconfig !== undefined ? resolve(opts.kubeconfig) : await kubeconfigOfClusters(command, name);
      // The Kubernetes client is heavy; loaded only when the command runs.
      const { readServiceAccountToken } = await import("./service-account-token.js");
      const token = await readServiceAccountToken({
        adminKubeconfig: opts.adminKubeconfig !== undefined ? resolve(opts.adminKubeconfig) : adminKubeconfigPath(),
        context: opts.fromContext,
        serviceAccount: opts.serviceAccount,
        ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
        ...(opts.tokenSecret === undefined ? {} : { secret: opts.tokenSecret }),
      });
      const configFile = globalOptions(command).config ?? process.env.CAPSTAN_CONFIG;
      const entry = clustersEntry(name, token.namespace, destination, configFile === undefined ? process.cwd() : dirname(resolve(configFile)));
      const json = globalOptions(command).json;
      if (destination === undefined) {
        const text = kubeconfigText(name, token);
        if (json) printJson({ cluster: name, context: entryName(name), namespace: token.namespace, kubeconfig: text, capstanYaml: entry });
        else {
          process.stdout.write(text);
          process.stderr.write(`# the kubeconfig above holds ServiceAccount ${token.namespace}/${token.serviceAccount}'s token; add to capstan.yaml (kubeconfig: where you put it):\n${entry}`);
        }
        return;
      }
      const { replaced } = writeKubeconfigEntry(destination, name, token);
      if (json) printJson({ cluster: name, context: entryName(name), namespace: token.namespace, kubeconfigPath: destination, replaced, capstanYaml: entry });
      else process.stdout.write(`${replaced ? "replaced" : "added"} context ${entryName(name)} (ServiceAccount ${token.namespace}/${token.serviceAccount}) in ${destination}\nadd to capstan.yaml:\n${entry}`);
    });
}

/** The admin's kubeconfig as kubectl finds it: $KUBECONFIG's first file, else ~/.kube/config. */
function adminKubeconfigPath(): string {
  const first = process.env.KUBECONFIG?.split(delimiter).find((p) => p !== "");
  return first !== undefined ? resolve(first) : resolve(homedir(), ".kube/config");
}

/** The kubeconfig file capstan.yaml's clusters name: that of cluster `name`, else the one file all name. */
async function kubeconfigOfClusters(command: Command, name: string): Promise<string> {
  const config = await configFrom(command);
  const hint = "name the file with --kubeconfig PATH, or use --print";
  if (config.file === null) throw new ClientError(`no capstan.yaml here (nor --config or CAPSTAN_CONFIG) to find the clusters' kubeconfig file; ${hint}`);
  const base = dirname(config.file);
  const expand = (p: string) => (p === "~" ? homedir() : p.startsWith("~/") ? resolve(homedir(), p.slice(2)) : resolve(base, p));
  const named = (value: unknown) => {
    const path = (value as { kubeconfig?: unknown } | null)?.kubeconfig;
    return typeof path === "string" && path !== "" ? expand(path) : undefined;
  };
  const own = named(config.clusters[name]);
  if (own !== undefined) return own;
  const files = [...new Set(Object.values(config.clusters).map(named).filter((p): p is string => p !== undefined))];
  if (files.length === 1 && files[0] !== undefined) return files[0];
  if (files.length === 0) throw new ClientError(`the clusters in ${config.file} name no kubeconfig file; ${hint}`);
  throw new ClientError(`the clusters in ${config.file} name several kubeconfig files (${files.join(", ")}); ${hint}`);
}

/** The `clusters:` entry for capstan.yaml, its kubeconfig path relative to capstan.yaml's folder when inside it. */
function clustersEntry(name: string, namespace: string, kubeconfig: string | undefined, base: string): string {
  const path = kubeconfig === undefined ? "PATH-OF-THE-KUBECONFIG" : relative(base, kubeconfig).startsWith("..") || isAbsolute(relative(base, kubeconfig)) ? kubeconfig : relative(base, kubeconfig);
  return stringify({ clusters: { [name]: { kubeconfig: path, context: entryName(name), namespace } } });
}
