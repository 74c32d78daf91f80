/** `capstan models register|list|show|alias`: the model registry (versions with lineage, aliases such as production). */
import { resolve } from "node:path";
import type { Command } from "commander";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { printJson, printTable } from "../output.js";

export function registerModelCommands(program: Command): void {
  const models = program.command("models").description("the model registry: versions of models with their lineage, and aliases (staging, production)");
  models
    .command("register <name> <path>")
    .description("register a new version from a .mar file or a model folder (MAR-INF/MANIFEST.json); it is copied into the home, or to the team's volume named in models.store")
    .option("--run <run>", "the run that produced it (its params are recorded)")
    .option("--task <task>", "the task of --run that produced it (its numeric outputs are recorded as metrics)")
    .option("--team <team>", "the team that owns a new model (default: the run's pipeline team, else default)")
    .action(async (name: string, path: string, opts: { run?: string; task?: string; team?: string }, command: Command) => {
      await withClient(command, async (client) => {
        const view = await client.registerModel(name, resolve(path), { ...(opts.run ? { run: opts.run } : {}), ...(opts.task ? { task: opts.task } : {}), ...(opts.team ? { team: opts.team } : {}) });
        if (globalOptions(command).json) printJson(view);
        else console.log(`registered ${view.name} version ${view.version} (sha256 ${view.sha256.slice(0, 12)}) at ${view.artifact_path}`);
      });
    });
  models
    .command("list")
    .description("registered models with their latest version and aliases")
    .option("--team <team>", "only this team's models")
    .action(async (opts: { team?: string }, command: Command) => {
      await withClient(command, async (client) => {
        const list = await client.listModels(opts.team);
        if (globalOptions(command).json) printJson({ models: list });
        else printTable(["MODEL", "TEAM", "LATEST", "ALIASES"], list.map((m) => [m.name, m.team, String(m.latest_version ?? "-"), Object.entries(m.aliases).map(([a, v]) => `${a}=${v}`).join(", ")]));
      });
    });
  models
    .command("show <name>")
    .description("a model's versions with their lineage (run, task, metrics) and aliases")
    .action(async (name: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const model = await client.getModel(name);
        if (globalOptions(command).json) {
          printJson(model);
          return;
        }
        console.log(`${model.name} (team ${model.team})`);
        printTable(
          ["VERSION", "ALIASES", "KIND", "SHA256", "RUN", "TASK", "METRICS", "CREATED"],
          model.versions.map((v) => [
            String(v.version),
            v.aliases.join(", "),
            v.kind,
            v.sha256.slice(0, 12),
            v.run_id ?? "-",
            v.task_id ?? "-",
            Object.entries(v.metrics ?? {}).map(([k, x]) => `${k}=${x}`).join(" "),
            v.created_at,
          ]),
        );
      });
    });
  models
    .command("alias <name> <version> <alias>")
    .description("point an alias (staging, production, …) at a version")
    .action(async (name: string, version: string, alias: string, _opts: unknown, command: Command) => {
      if (!/^\d+$/.test(version) || Number(version) < 1) throw new ClientError(`version: ${JSON.stringify(version)} is not a version number (1, 2, …)`);
      await withClient(command, async (client) => {
        const model = await client.setModelAlias(name, Number(version), alias);
        if (globalOptions(command).json) printJson(model);
        else console.log(`${name}: ${alias} -> version ${version}`);
      });
    });
}
