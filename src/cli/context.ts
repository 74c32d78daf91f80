/** The global options every command shares, resolved into a configuration and a client. */
import type { Command } from "commander";
import type { CapstanConfig } from "../config/index.js";
import type { CapstanClient } from "./http-client.js";

export interface GlobalOptions {
  home?: string;
  pipelines: string | string[];
  config?: string;
  json: boolean;
  server?: string;
}

/** Global options of the program that `command` belongs to. */
export function globalOptions(command: Command): GlobalOptions {
  let root = command;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

/** The configuration for the command's flags (loaded on demand: `capstan notebook` never needs it). */
export async function configFrom(command: Command, overrides: { port?: number; host?: string } = {}): Promise<CapstanConfig> {
  const { loadConfig } = await import("../config/index.js");
  const options = globalOptions(command);
  const pipelinesSource = command.parent ? root(command).getOptionValueSource("pipelines") : command.getOptionValueSource("pipelines");
  const pipelines = pipelinesSource === "default" ? undefined : Array.isArray(options.pipelines) ? options.pipelines : options.pipelines.split(",");
  return loadConfig({
    ...(options.home ? { home: options.home } : {}),
    ...(pipelines ? { pipelines } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...overrides,
  });
}

function root(command: Command): Command {
  let r = command;
  while (r.parent) r = r.parent;
  return r;
}

/** Runs `work` with a client for the command's home, closing it afterwards. */
export async function withClient<T>(command: Command, work: (client: CapstanClient, config: CapstanConfig) => Promise<T>): Promise<T> {
  const config = await configFrom(command);
  // Over HTTP the engine is not loaded at all; only the in-process client needs it.
  const { httpClientFor } = await import("./http-client.js");
  const server = globalOptions(command).server;
  const client = httpClientFor(config, server) ?? (await import("./client.js")).clientFor(config, server);
  try {
    return await work(client, config);
  } finally {
    await client.close();
  }
}
