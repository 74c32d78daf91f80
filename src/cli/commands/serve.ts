/**
 * `capstan serve`: a drop-in for `torchserve --start`. Takes TorchServe's start flags
 * (--model-store, --models, --ts-config, --disable-token-auth, --ncs, --foreground) and serves the
 * inference, management and metrics APIs in the foreground until Ctrl-C. `--model NAME@ALIAS` (or
 * NAME@VERSION) fetches a registered version from the model registry into the model store first.
 */
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { ClientError } from "../errors.js";
import { configFrom, withClient } from "../context.js";

interface ServeOptions {
  modelStore?: string;
  models?: string[];
  model?: string[];
  tsConfig?: string;
  disableTokenAuth?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve TorchServe model archives (.mar) with TorchServe's APIs: inference :8080, management :8081, metrics :8082 (see docs/serving.md)")
    .option("--model-store <dir>", "folder of model archives (model_store)")
    .option("--models <models...>", "archives to load at start: NAME=FILE.mar, FILE.mar, or all")
    .option("--model <refs...>", "registered versions to fetch from the model registry and serve: NAME@ALIAS (e.g. users@production) or NAME@VERSION (users@3)")
    .option("--ts-config <file>", "TorchServe config.properties to read")
    .option("--disable-token-auth", "serve without key_file.json tokens (disable_token_authorization)")
    .option("--ncs, --no-config-snapshots", "accepted for torchserve compatibility (Capstan writes no snapshots)")
    .option("--foreground", "accepted for torchserve compatibility (capstan serve always runs in the foreground)")
    .option("--start", "accepted for torchserve compatibility")
    .action(async (opts: ServeOptions, command: Command) => {
      const { loadServeConfig, startModelServer, ServeConfigError } = await import("../../serving/index.js");
      const platformConfig = await configFrom(command);
      const refs = (opts.model ?? []).map(parseModelRef);
      let scratchStore: string | undefined;
      let models = opts.models;
      let modelStore = opts.modelStore;
      if (refs.length > 0) {
        // Fetched versions go to the given store, else to a folder of this process's own, removed at exit.
        if (modelStore === undefined) modelStore = scratchStore = mkdtempSync(join(tmpdir(), "capstan-serve-"));
        const store = resolve(modelStore);
        const fetched = await withClient(command, async (client) => {
          const entries: string[] = [];
          for (const ref of refs) {
            const partial = join(store, `.${ref.name}.fetching.mar`);
            let version;
            try {
              version = await client.fetchModelArchive(ref.name, ref.ref, partial);
            } catch (error) {
              if (scratchStore) rmSync(scratchStore, { recursive: true, force: true });
              const message = error instanceof Error ? error.message : String(error);
              throw new ClientError(`--model ${ref.name}@${ref.ref}: ${message}`, error instanceof ClientError ? error.exitCode : 2);
            }
            const file = `${ref.name}-v${version.version}.mar`;
            renameSync(partial, join(store, file));
            process.stderr.write(`model ${ref.name}@${ref.ref}: version ${version.version} (sha256 ${version.sha256.slice(0, 12)}) in ${store}\n`);
            entries.push(`${ref.name}=${file}`);
          }
          return entries;
        });
        models = [...(models ?? []).filter((m) => m !== "all"), ...fetched];
      }
      let serveConfig;
      try {
        serveConfig = loadServeConfig({ modelStore, models, tsConfig: opts.tsConfig, disableTokenAuth: opts.disableTokenAuth }, platformConfig.python);
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
      if (scratchStore) rmSync(scratchStore, { recursive: true, force: true });
    });
}

/** `NAME@ALIAS` or `NAME@VERSION`, checked before anything is fetched. */
function parseModelRef(text: string): { name: string; ref: string } {
  const at = text.lastIndexOf("@");
  const name = at > 0 ? text.slice(0, at) : "";
  const ref = at > 0 ? text.slice(at + 1) : "";
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(name) || !/^(?:[1-9]\d{0,8}|[a-z][a-z0-9-]{0,31})$/.test(ref)) {
    throw new ClientError(`--model ${JSON.stringify(text)}: expected NAME@ALIAS (users@production) or NAME@VERSION (users@3)`);
  }
  return { name, ref };
}
