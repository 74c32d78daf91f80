/** `capstan secrets list|set|delete`: team secrets that tasks receive as environment variables. */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { printJson, printTable } from "../output.js";

export function registerSecretCommands(program: Command): void {
  const secrets = program.command("secrets").description("team secrets for tasks (task field secrets: NAME: secret/key); values are never shown");
  secrets
    .command("list")
    .description("secrets with their keys (never their values)")
    .option("--team <team>", "only this team's secrets")
    .action(async (opts: { team?: string }, command: Command) => {
      await withClient(command, async (client) => {
        const list = await client.listSecrets(opts.team);
        if (globalOptions(command).json) printJson({ secrets: list });
        else printTable(["TEAM", "SECRET", "KEYS", "UPDATED"], list.map((s) => [s.team, s.name, s.keys.join(", "), s.updated_at]));
      });
    });
  secrets
    .command("set <name> <pairs...>")
    .description("create or replace a secret from KEY=VALUE pairs (KEY=@FILE reads the value from a file)")
    .option("--team <team>", "the team that owns it", "default")
    .action(async (name: string, pairs: string[], opts: { team: string }, command: Command) => {
      const data: Record<string, string> = {};
      for (const pair of pairs) {
        const eq = pair.indexOf("=");
        if (eq <= 0) throw new ClientError(`${JSON.stringify(pair.split("=")[0])}: write KEY=VALUE or KEY=@FILE`);
        const value = pair.slice(eq + 1);
        data[pair.slice(0, eq)] = value.startsWith("@") ? readFileSync(value.slice(1), "utf8").replace(/\n$/, "") : value;
      }
      await withClient(command, (client) => client.setSecret(opts.team, name, data));
    });
  secrets
    .command("delete <name>")
    .description("delete a secret")
    .option("--team <team>", "the team that owns it", "default")
    .action(async (name: string, opts: { team: string }, command: Command) => {
      await withClient(command, (client) => client.deleteSecret(opts.team, name));
    });
}
