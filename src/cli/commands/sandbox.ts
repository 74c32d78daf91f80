/** `capstan sandbox create|list|start|stop|delete|open|ssh|tunnel`: one's JupyterLab sandboxes, named by name or id. */
import { spawn } from "node:child_process";
import type { Command } from "commander";
import { HttpClient, type CapstanClient } from "../http-client.js";
import type { SandboxApiView } from "../../operations/index.js";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { printJson, printTable } from "../output.js";
import { pinHostKey, proxyCommand, runSshTunnel, sshArgv, sshConfigBlock, sshHostName } from "../sandbox-ssh/index.js";

const SANDBOX_ID = /^s[a-z2-7]{16}$/;

/** The caller's own sandbox named `ref` (a name, or an id of any sandbox the caller sees). */
async function findSandbox(client: CapstanClient, ref: string): Promise<SandboxApiView> {
  const mine = await client.listSandboxes({ mine: true });
  const found = mine.find((s) => s.name === ref) ?? (SANDBOX_ID.test(ref) ? (await client.listSandboxes()).find((s) => s.id === ref) : undefined);
  if (!found) throw new ClientError(`no sandbox ${JSON.stringify(ref)} of yours; capstan sandbox list shows them`, 2);
  return found;
}

function describe(view: SandboxApiView): string {
  return `${view.name} (${view.id}) is ${view.state}${view.reason ? `: ${view.reason}` : ""}`;
}

export function registerSandboxCommands(program: Command): void {
  const sandbox = program.command("sandbox").description("personal JupyterLab sandboxes with a home that survives restarts, reachable over SSH (served by capstan up)");
  sandbox
    .command("create <name>")
    .description("create a stopped sandbox (1–32 lowercase letters, digits and '-')")
    .option("--team <team>", "the team it belongs to (needed when you are in several)")
    .option("--profile <profile>", "a profile from capstan.yaml (default: the default profile)")
    .option("--start", "start it after creating it")
    .action(async (name: string, opts: { team?: string; profile?: string; start?: boolean }, command: Command) => {
      await withClient(command, async (client) => {
        let view = await client.createSandbox({ name, ...(opts.team ? { team: opts.team } : {}), ...(opts.profile ? { profile: opts.profile } : {}) });
        if (opts.start) view = await client.startSandbox(view.id);
        if (globalOptions(command).json) printJson(view);
        else console.log(`created ${describe(view)}`);
      });
    });
  sandbox
    .command("list")
    .description("sandboxes of your teams")
    .option("--team <team>", "only this team's")
    .option("--mine", "only your own")
    .action(async (opts: { team?: string; mine?: boolean }, command: Command) => {
      await withClient(command, async (client) => {
        const list = await client.listSandboxes({ ...(opts.team ? { team: opts.team } : {}), ...(opts.mine ? { mine: true } : {}) });
        if (globalOptions(command).json) printJson({ sandboxes: list });
        else printTable(["NAME", "ID", "OWNER", "TEAM", "PROFILE", "STATE", "LAST ACTIVITY", "REASON"], list.map((s) => [s.name, s.id, s.owner, s.team, s.profile, s.state, s.last_activity, s.reason ?? ""]));
      });
    });
  sandbox
    .command("profiles")
    .description("the profiles sandboxes are created from")
    .action(async (_opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const profiles = await client.sandboxProfiles();
        if (globalOptions(command).json) printJson({ profiles });
        else printTable(["PROFILE", "BACKEND", "GPU", "IDLE TIMEOUT", "DESCRIPTION"], profiles.map((p) => [`${p.name}${p.default ? " (default)" : ""}`, p.backend, String(p.gpu), `${Math.round(p.idle_timeout_ms / 60_000)}m`, p.description ?? ""]));
      });
    });
  for (const [verb, description] of [
    ["start", "start a sandbox and wait until JupyterLab answers"],
    ["stop", "stop a sandbox, its kernels and terminals; its home is kept"],
  ] as const) {
    sandbox
      .command(`${verb} <name>`)
      .description(description)
      .action(async (ref: string, _opts: unknown, command: Command) => {
        await withClient(command, async (client) => {
          const found = await findSandbox(client, ref);
          const view = verb === "start" ? await client.startSandbox(found.id) : await client.stopSandbox(found.id);
          if (globalOptions(command).json) printJson(view);
          else console.log(describe(view));
          if (view.state === "failed") process.exitCode = 1;
        });
      });
  }
  sandbox
    .command("delete <name>")
    .description("delete a stopped sandbox and every file in its home, for good")
    .requiredOption("--confirm <name>", "the sandbox's name again")
    .action(async (ref: string, opts: { confirm: string }, command: Command) => {
      await withClient(command, async (client) => {
        const found = await findSandbox(client, ref);
        await client.deleteSandbox(found.id, opts.confirm);
        if (globalOptions(command).json) printJson({ deleted: found.id });
        else console.log(`deleted ${found.name} (${found.id}) and its home`);
      });
    });
  sandbox
    .command("open <name>")
    .description("print the one-time URL (valid 60 s) that opens the sandbox's JupyterLab in a browser")
    .action(async (ref: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const found = await findSandbox(client, ref);
        const { url } = await client.openSandbox(found.id);
        if (globalOptions(command).json) printJson({ url });
        else console.log(url);
      });
    });
  registerSshCommands(sandbox);
}

/** The HTTP client a tunnel needs (sandboxes only exist on a server; the in-process client has said so already). */
function httpClient(client: CapstanClient): HttpClient {
  if (!(client instanceof HttpClient)) throw new ClientError("SSH into a sandbox goes through a running Capstan: start `capstan up` for this home, or use --server URL with `capstan login`", 2);
  return client;
}

interface SshDescription {
  user: string;
  host_key: string | null;
}

/** What the server says about reaching a sandbox's sshd (its user and host key); refuses a sandbox that does not run. */
async function describeSsh(client: HttpClient, id: string): Promise<SshDescription> {
  let response: Response;
  try {
    response = await fetch(new URL(`/api/sandboxes/${encodeURIComponent(id)}/ssh`, client.baseUrl), { headers: { accept: "application/json", ...(client.token ? { authorization: `Bearer ${client.token}` } : {}) } });
  } catch (error) {
    throw new ClientError(`cannot reach the Capstan server at ${client.baseUrl}: ${(error as Error).message}`, 1);
  }
  const body = (await response.json().catch(() => undefined)) as (SshDescription & { error?: { message?: string } }) | undefined;
  if (!response.ok || !body) throw new ClientError(body?.error?.message ?? `HTTP ${response.status}`, response.status >= 500 ? 1 : 2);
  return body;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function registerSshCommands(sandbox: Command): void {
  sandbox
    .command("ssh <name> [command...]")
    .description("SSH into a running sandbox with the system ssh, through Capstan (put your public key in the sandbox's ~/.ssh/authorized_keys first); --print-config prints the ~/.ssh/config block for VS Code Remote-SSH")
    .option("-i, --identity <file>", "the private key ssh uses")
    .option("-o, --ssh-option <option>", "an ssh -o option, e.g. -o ServerAliveInterval=30 (repeatable)", collect, [])
    .option("--print-config", "print the ~/.ssh/config block for this sandbox instead of connecting")
    .action(async (ref: string, command: string[], opts: { identity?: string; sshOption: string[]; printConfig?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        const http = httpClient(client);
        const found = await findSandbox(http, ref);
        const ssh = await describeSsh(http, found.id);
        const knownHosts = ssh.host_key ? pinHostKey(`capstan-sandbox-${found.id}`, ssh.host_key) : undefined;
        if (opts.printConfig) {
          const block = sshConfigBlock({ sandboxId: found.id, sandboxName: found.name, user: ssh.user, proxyCommand: proxyCommand(["capstan"], http.baseUrl, found.name), knownHosts });
          process.stdout.write(`# ${found.name}: add to ~/.ssh/config, then connect with: ssh ${sshHostName(found.name)} (VS Code: Remote-SSH: Connect to Host…)\n${block}`);
          return;
        }
        const argv = sshArgv({
          sandboxId: found.id,
          sandboxName: found.name,
          user: ssh.user,
          proxyCommand: proxyCommand([process.execPath, process.argv[1] ?? "capstan"], http.baseUrl, found.id),
          knownHosts,
          identity: opts.identity,
          options: opts.sshOption,
          command,
        });
        const code = await new Promise<number>((resolve, reject) => {
          const child = spawn(process.env.CAPSTAN_SSH ?? "ssh", argv, { stdio: "inherit", env: { ...process.env, ...(http.token ? { CAPSTAN_TOKEN: http.token } : {}) } });
          child.once("error", (error) => reject(new ClientError(`cannot run ssh: ${error.message} (install an OpenSSH client)`, 1)));
          child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
        });
        process.exitCode = code;
      });
    });
  sandbox
    .command("tunnel <name>")
    .description("carry an SSH connection to a running sandbox over stdin/stdout (an ssh ProxyCommand: ProxyCommand capstan sandbox tunnel NAME)")
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (client) => {
        const http = httpClient(client);
        const id = SANDBOX_ID.test(ref) ? ref : (await findSandbox(http, ref)).id;
        await runSshTunnel({ baseUrl: http.baseUrl, token: http.token, sandboxId: id, input: process.stdin, output: process.stdout });
      });
    });
}
