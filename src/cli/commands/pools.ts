/** `capstan pools list|set|delete`. */
import type { Command } from "commander";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { printJson, printTable } from "../output.js";

export function registerPoolCommands(program: Command): void {
  const pools = program.command("pools").description("named slot limits shared by tasks (task field pool:)");
  pools
    .command("list")
    .description("pools with their slots and the slots in use")
    .action(async (_opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const list = await client.listPools();
        if (globalOptions(command).json) printJson({ pools: list });
        else printTable(["POOL", "SLOTS", "USED", "DESCRIPTION"], list.map((p) => [p.name, p.slots, p.used, p.description ?? ""]));
      });
    });
  pools
    .command("set <name> <slots>")
    .description("create a pool or change its slots")
    .option("--description <text>", "what the pool is for")
    .action(async (name: string, slotsText: string, opts: { description?: string }, command: Command) => {
      const slots = Number(slotsText);
      if (!Number.isInteger(slots) || slots < 0) throw new ClientError(`slots ${JSON.stringify(slotsText)}: expected a whole number ≥ 0`);
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) throw new ClientError(`pool name ${JSON.stringify(name)}: letters, digits, '_', '-', '.', at most 63`);
      await withClient(command, (client) => client.setPool(name, slots, opts.description));
    });
  pools
    .command("delete <name>")
    .description("delete a pool")
    .action(async (name: string, _opts: unknown, command: Command) => {
      await withClient(command, (client) => client.deletePool(name));
    });
}
