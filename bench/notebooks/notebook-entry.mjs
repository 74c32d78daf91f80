// The `notebook` command group alone on a fresh program: what `capstan notebook run` costs when
// the CLI loads only the command it runs (compare with bin/capstan.js, which loads every group).
import process from "node:process";
import { Command, CommanderError } from "commander";
import { registerNotebookCommands } from "../../dist/cli/commands/notebook.js";

const program = new Command("capstan").exitOverride();
registerNotebookCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode);
  }
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = typeof error === "object" && error !== null && "exitCode" in error && typeof error.exitCode === "number" ? error.exitCode : 1;
}
