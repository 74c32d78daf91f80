/** The list of command groups; each module adds its commands to the program. */
import type { Command } from "commander";
import { registerClusterCommands } from "../clusters/index.js";
import { registerConnectionCommands } from "./connections.js";
import { registerDeploymentCommands } from "./deployments.js";
import { registerLoginCommands } from "./login.js";
import { registerLogCommands } from "./logs.js";
import { registerModelCommands } from "./models.js";
import { registerNotebookCommands } from "./notebook.js";
import { registerPipelineCommands } from "./pipelines.js";
import { registerPoolCommands } from "./pools.js";
import { registerRunCommands } from "./run.js";
import { registerRunsCommands } from "./runs.js";
import { registerSandboxCommands } from "./sandbox.js";
import { registerSecretCommands } from "./secrets.js";
import { registerServeCommand } from "./serve.js";
import { registerStorageCommands } from "./storage.js";
import { registerUpCommand } from "./up.js";
import { registerUserCommands } from "./users.js";

type Register = (program: Command) => void;

const registrations: Register[] = [
  registerUpCommand,
  registerPipelineCommands,
  registerRunCommands,
  registerRunsCommands,
  registerLogCommands,
  registerPoolCommands,
  registerSecretCommands,
  registerConnectionCommands,
  registerModelCommands,
  registerDeploymentCommands,
  registerSandboxCommands,
  registerStorageCommands,
  registerUserCommands,
  registerLoginCommands,
  registerNotebookCommands,
  registerServeCommand,
  registerClusterCommands,
];

/** Adds every command group to the program. */
export function registerCommands(program: Command): void {
  for (const register of registrations) {
    register(program);
  }
}
