/** `capstan sandbox create|list|start|stop|delete|open`: one's JupyterLab sandboxes, named by name or id. */
import type { Command } from "commander";
import type { CapstanClient } from "../client.js";
import type { SandboxApiView } from "../../operations/index.js";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { printJson, printTable } from "../output.js";

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
  const sandbox = program.command("sandbox").description("personal JupyterLab sandboxes with a home that survives restarts (served by capstan up)");
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
}
