/**
 * `capstan serve`: a drop-in for `torchserve --start`. Takes TorchServe's start flags
 * (--model-store, --models, --ts-config, --disable-token-auth, --ncs, --foreground) and serves the
 * inference, management and metrics APIs in the foreground until Ctrl-C.
 */
import type { Command } from "commander";
import { ClientError } from "../errors.js";
import { configFrom } from "../context.js";

interface ServeOptions {
  modelStore?: string;
  models?: string[];
  tsConfig?: string;
  disableTokenAuth?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve TorchServe model archives (.mar) with TorchServe's APIs: inference :8080, management :8081, metrics :8082 (see docs/serving.md)")
    .option("--model-store <dir>", "folder of model archives (model_store)")
    .option("--models <models...>", "archives to load at start: NAME=FILE.mar, FILE.mar, or all")
    .option("--ts-config <file>", "TorchServe config.properties to read")
    .option("--disable-token-auth", "serve without key_file.json tokens (disable_token_authorization)")
    .option("--ncs, --no-config-snapshots", "accepted for torchserve compatibility (Capstan writes no snapshots)")
    .option("--foreground", "accepted for torchserve compatibility (capstan serve always runs in the foreground)")
    .option("--start", "accepted for torchserve compatibility")
    .action(async (opts: ServeOptions, command: Command) => {
      const { loadServeConfig, startModelServer, ServeConfigError } = await import("../../serving/index.js");
      const platformConfig = await configFrom(command);
      let serveConfig;
      try {
        serveConfig = loadServeConfig({ modelStore: opts.modelStore, models: opts.models, tsConfig: opts.tsConfig, disableTokenAuth: opts.disableTokenAuth }, platformConfig.python);
      } catch (error) {
        if (error instanceof ServeConfigError) throw new ClientError(error.message);
        throw error;
      }
      if (serveConfig.loadModels.length > 0 && !serveConfig.modelStore) throw new ClientError("--models needs --model-store (or model_store in config.properties)");
      const server = await startModelServer(serveConfig);
      process.stderr.write(`capstan serve: inference ${server.urls.inference}, management ${server.urls.management}${server.urls.metrics ? `, metrics ${server.urls.metrics}/metrics` : ""}\n`);
      process.stderr.write(server.keys ? `token authorization on: keys in ${serveConfig.keyFile}\n` : "token authorization off\n");
      for (const entry of server.models.defaults()) process.stderr.write(`model ${entry.name} ${entry.version}: ${entry.pool.readyCount} worker(s) ready\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await server.close();
    });
}
