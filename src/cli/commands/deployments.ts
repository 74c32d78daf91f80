/**
 * `capstan deployments create|list|show|key|scale|rollback|delete`: a model's alias (or version)
 * served by N replicas, as `capstan serve` processes of `capstan up` or as a Kubernetes Deployment +
 * Service. Local replicas ask for the deployment's inference key unless created with --no-token-auth.
 */
import type { Command } from "commander";
import type { DeploymentView } from "../../operations/index.js";
import type { CapstanClient } from "../client.js";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { printJson, printTable } from "../output.js";

function count(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new ClientError(`${flag} ${JSON.stringify(text)}: expected a whole number`);
  return Number(text);
}

function printDeployment(view: DeploymentView): void {
  const where = view.target === "kubernetes" ? `kubernetes ${view.cluster}/${view.namespace}` : `local, token authorization ${view.token_auth ? "on" : "off"}`;
  console.log(`${view.name} (team ${view.team}): ${view.model}@${view.ref} -> version ${view.version}, ${view.replicas} replica(s), ${where}, ${view.state}${view.message ? `: ${view.message}` : ""}`);
  if (view.previous_version !== null) console.log(`rollback goes to version ${view.previous_version}`);
  if (view.replica_status.length > 0) {
    printTable(["REPLICA", "VERSION", "STATE", "URL", "PID"], view.replica_status.map((r) => [r.replica, String(r.version), r.state + (r.message ? ` (${r.message})` : ""), r.url ?? "-", r.pid === null ? "-" : String(r.pid)]));
  }
}

/** A curl to a ready local replica, with the inference key when the caller may read it (else a placeholder and how to get it). */
async function printCurl(client: CapstanClient, view: DeploymentView): Promise<void> {
  const url = view.replica_status.find((r) => r.state === "ready" && r.url)?.url;
  if (view.target !== "local" || !url) return;
  const predictions = `${url}/predictions/${encodeURIComponent(view.model)}`;
  if (!view.token_auth) {
    console.log(`\ncurl -X POST ${predictions} -H 'content-type: application/json' -d '{}'`);
    return;
  }
  let key = "$KEY";
  try {
    key = (await client.deploymentKey(view.name)).key;
  } catch {
    console.log(`\nits replicas ask for the inference key (team editors: capstan deployments key ${view.name})`);
  }
  console.log(`\ncurl -X POST ${predictions} -H 'authorization: Bearer ${key}' -H 'content-type: application/json' -d '{}'`);
}

export function registerDeploymentCommands(program: Command): void {
  const deployments = program.command("deployments").description("serve a model's alias (or version) with N replicas, locally under `capstan up` or on Kubernetes; rolled when the alias moves");
  deployments
    .command("create <name> <model@ref>")
    .description("deploy MODEL@ALIAS (followed when the alias moves) or MODEL@VERSION")
    .option("--replicas <n>", "replicas (default 1)")
    .option("--target <target>", "local (capstan serve processes of capstan up; default) or kubernetes")
    .option("--cluster <cluster>", "kubernetes: a cluster of capstan.yaml (default: the only one)")
    .option("--namespace <namespace>", "kubernetes: the namespace (default: default)")
    .option("--cpu <quantity>", "kubernetes: CPU per replica (e.g. 500m)")
    .option("--memory <quantity>", "kubernetes: memory per replica (e.g. 1Gi)")
    .option("--gpus <n>", "kubernetes: GPUs per replica (nvidia.com/gpu)")
    .option("--no-token-auth", "local: replicas answer anyone on 127.0.0.1 instead of asking for the deployment's inference key")
    .action(async (name: string, ref: string, opts: { replicas?: string; target?: string; cluster?: string; namespace?: string; cpu?: string; memory?: string; gpus?: string; tokenAuth: boolean }, command: Command) => {
      const at = ref.lastIndexOf("@");
      if (at <= 0 || at === ref.length - 1) throw new ClientError(`${JSON.stringify(ref)}: expected MODEL@ALIAS (users@production) or MODEL@VERSION (users@3)`);
      if (opts.target !== undefined && opts.target !== "local" && opts.target !== "kubernetes") throw new ClientError(`--target ${JSON.stringify(opts.target)}: expected local or kubernetes`);
      const request = {
        name,
        model: ref.slice(0, at),
        ref: ref.slice(at + 1),
        ...(opts.replicas !== undefined ? { replicas: count("--replicas", opts.replicas) } : {}),
        ...(opts.target !== undefined ? { target: opts.target === "kubernetes" ? ("kubernetes" as const) : ("local" as const) } : {}),
        ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
        ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
        ...(opts.cpu !== undefined ? { cpu: opts.cpu } : {}),
        ...(opts.memory !== undefined ? { memory: opts.memory } : {}),
        ...(opts.gpus !== undefined ? { gpus: count("--gpus", opts.gpus) } : {}),
        ...(opts.tokenAuth === false ? { token_auth: false } : {}),
      };
      await withClient(command, async (client) => {
        const view = await client.createDeployment(request);
        if (globalOptions(command).json) printJson(view);
        else {
          printDeployment(view);
          if (client.mode === "in-process" && view.target === "local") console.log("its replicas start when `capstan up` runs against this home");
        }
      });
    });
  deployments
    .command("list")
    .description("deployments with their model, version, replicas and state")
    .option("--team <team>", "only this team's deployments")
    .option("--model <model>", "only deployments of this model")
    .action(async (opts: { team?: string; model?: string }, command: Command) => {
      await withClient(command, async (client) => {
        const list = await client.listDeployments({ ...(opts.team ? { team: opts.team } : {}), ...(opts.model ? { model: opts.model } : {}) });
        if (globalOptions(command).json) printJson({ deployments: list });
        else
          printTable(
            ["DEPLOYMENT", "TEAM", "MODEL", "VERSION", "REPLICAS", "TARGET", "STATE"],
            list.map((d) => [d.name, d.team, `${d.model}@${d.ref}`, String(d.version), `${d.replica_status.filter((r) => r.state === "ready").length}/${d.replicas}`, d.target === "kubernetes" ? `${d.cluster}/${d.namespace}` : "local", d.state]),
          );
      });
    });
  deployments
    .command("show <name>")
    .description("a deployment with its replicas as last seen, and a curl to a ready local replica")
    .action(async (name: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const view = await client.getDeployment(name);
        if (globalOptions(command).json) printJson(view);
        else {
          printDeployment(view);
          await printCurl(client, view);
        }
      });
    });
  deployments
    .command("key <name>")
    .description("the inference key the deployment's local replicas ask for (Authorization: Bearer KEY; team editors)")
    .action(async (name: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const key = await client.deploymentKey(name);
        if (globalOptions(command).json) printJson(key);
        else console.log(key.key);
      });
    });
  deployments
    .command("scale <name> <replicas>")
    .description("set the number of replicas")
    .action(async (name: string, replicas: string, _opts: unknown, command: Command) => {
      const n = count("replicas", replicas);
      await withClient(command, async (client) => {
        const view = await client.scaleDeployment(name, n);
        if (globalOptions(command).json) printJson(view);
        else console.log(`${name}: ${n} replica(s)`);
      });
    });
  deployments
    .command("rollback <name>")
    .description("go back to the version served before (a followed alias moves back, so every deployment of it follows)")
    .action(async (name: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const view = await client.rollbackDeployment(name);
        if (globalOptions(command).json) printJson(view);
        else console.log(`${name}: rolling back to ${view.model} version ${view.version}`);
      });
    });
  deployments
    .command("delete <name>")
    .description("stop a deployment's replicas (or delete its Kubernetes objects) and remove it")
    .action(async (name: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const view = await client.deleteDeployment(name);
        if (globalOptions(command).json) printJson(view);
        else console.log(`${name}: deleting`);
      });
    });
}
