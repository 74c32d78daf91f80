/** `capstan notebook …`: runs parameterised Jupyter notebooks headless. */
import type { Command } from "commander";

/** Adds the notebook command group. */
export function registerNotebookCommands(program: Command): void {
  program.command("notebook").description("run parameterised Jupyter notebooks headless");
}
