/** The list of command groups; each module adds its commands to the program. */
import type { Command } from "commander";
import { registerNotebookCommands } from "./notebook.js";

type Register = (program: Command) => void;

const registrations: Register[] = [registerNotebookCommands];

/** Adds every command group to the program. */
export function registerCommands(program: Command): void {
  for (const register of registrations) {
    register(program);
  }
}
