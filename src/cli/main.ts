/**
 * The `capstan` command line: builds the commander program from one module per command group
 * and maps errors to exit codes. Commands stay thin: parse flags, call a service, print.
 */
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index.js";
import { exitCodeOf } from "./exit-codes.js";
import { printError } from "./output.js";

/** Builds the program; exported so tests can inspect `--help` without spawning a process. */
export function buildProgram(): Command {
  const program = new Command("capstan")
    .description("Pipelines, notebook tasks and model serving for ML teams, on one machine or on Kubernetes.")
    .option("--home <dir>", "state directory (database, logs, attempts); default $CAPSTAN_HOME or ./.capstan")
    .option("--pipelines <dir>", "directory of pipeline files (*.yaml, *.yml, *.ts)", "./pipelines")
    .option("--config <file>", "capstan.yaml to read; default ./capstan.yaml when it exists")
    .option("--json", "print machine-readable JSON instead of tables", false)
    .option("--server <url>", "talk to the Capstan server at this URL (default: the `capstan up` of --home, else work in this process)")
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode;
    }
    printError(error);
    return exitCodeOf(error);
  }
}
