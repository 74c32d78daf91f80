/** The list of command groups; each module adds its commands to the program. */
import type { Command } from "commander";

type Register = (program: Command) => void;

const registrations: Register[] = [];

/** Adds every command group to the program. */
export function registerCommands(program: Command): void {
  for (const register of registrations) {
    register(program);
  }
}
