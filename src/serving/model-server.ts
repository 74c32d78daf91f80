/**
 * `capstan serve` assembled: the model manager, the inference, management and metrics listeners,
 * token keys, and the models named by --models / load_models loaded at start. Listeners open first
 * and models load behind them, so /ping answers while a large model is still loading.
 */
import { existsSync, readdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import type { ServeConfig } from "./config/index.js";
import { createInferenceApi, createManagementApi, TokenKeys, type HttpAppOptions } from "./http/index.js";
import { ServingMetrics } from "./metrics/index.js";
import { ModelManager } from "./models/index.js";

/** Extra knobs, mostly for tests. */
export interface ModelServerOptions {
  log?: (line: string) => void;
  /** worker replacement delays in ms */
  backoffMs?: readonly number[];
}

/** A running model server. */
export interface ModelServer {
  models: ModelManager;
  /** token keys, or undefined when token auth is off */
  keys: TokenKeys | undefined;
  /** the URLs the listeners answer on (ports resolved when 0 was asked) */
  urls: { inference: string; management: string; metrics: string | undefined };
  /** what failed to load at start, by archive */
  startupFailures: Map<string, string>;
  close(): Promise<void>;
}

/** Starts the listeners, then loads the start-up models. */
export async function startModelServer(config: ServeConfig, options: ModelServerOptions = {}): Promise<ModelServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const workDir = mkdtempSync(join(tmpdir(), "capstan-serve-"));
  const models = new ModelManager({
    modelStore: config.modelStore,
    allowedUrls: config.allowedUrls,
    workDir,
    defaults: { workersPerModel: config.defaultWorkersPerModel, responseTimeoutS: config.defaultResponseTimeoutS, startupTimeoutS: config.defaultStartupTimeoutS },
    jobQueueSize: config.jobQueueSize,
    numberOfGpu: config.numberOfGpu,
    python: config.python,
    log,
    ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
  });
  const keys = config.tokenAuth ? new TokenKeys(config.keyFile, config.tokenExpirationMin, Date.now, config.inferenceKey) : undefined;
  const metrics = new ServingMetrics(() => models.defaults().flatMap((d) => models.versionsOf(d.name)).map((v) => ({ model: v.name, version: v.version, ready: v.pool.readyCount })));
  const http = (kind: "inference" | "management"): HttpAppOptions => ({ maxRequestSize: config.maxRequestSize, auth: keys ? { keys, kind } : undefined });
  const apps: FastifyInstance[] = [];
  const close = async (): Promise<void> => {
    models.close();
    await Promise.all(apps.map((a) => a.close()));
    keys?.remove();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const inference = createInferenceApi(models, metrics, http("inference"));
    apps.push(inference);
    const management = createManagementApi(models, http("management"), { enableModelApi: config.enableModelApi, keys });
    apps.push(management);
    const inferenceUrl = await inference.listen({ host: config.inference.host, port: config.inference.port });
    const managementUrl = await management.listen({ host: config.management.host, port: config.management.port });
    let metricsUrl: string | undefined;
    if (config.enableMetricsApi) {
      const metricsApp = Fastify({ logger: false });
      apps.push(metricsApp);
      metricsApp.get("/metrics", async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
      metricsUrl = await metricsApp.listen({ host: config.metrics.host, port: config.metrics.port });
    }
    const startupFailures = new Map<string, string>();
    await Promise.all(
      startupArchives(config).map(async ({ url, modelName }) => {
        try {
          await models.register({ url, modelName, synchronous: true, loadedAtStartup: true });
        } catch (error) {
          startupFailures.set(url, (error as Error).message);
          log(`could not load ${url}: ${(error as Error).message}`);
        }
      }),
    );
    return { models, keys, urls: { inference: inferenceUrl, management: managementUrl, metrics: metricsUrl }, startupFailures, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The archives --models / load_models name: `all`, `NAME=FILE` or `FILE`. */
function startupArchives(config: ServeConfig): Array<{ url: string; modelName: string | undefined }> {
  const entries: Array<{ url: string; modelName: string | undefined }> = [];
  for (const item of config.loadModels) {
    if (item === "all" || item === "ALL") {
      if (!config.modelStore || !existsSync(config.modelStore)) continue;
      for (const name of readdirSync(config.modelStore).sort()) {
        const path = join(config.modelStore, name);
        if (name.startsWith(".") || name === "key_file.json") continue;
        if (statSync(path).isDirectory() ? existsSync(join(path, "MAR-INF")) : /\.(mar|zip|tar\.gz|tgz)$/.test(name)) entries.push({ url: name, modelName: undefined });
      }
      continue;
    }
    const at = item.indexOf("=");
    entries.push(at > 0 ? { url: item.slice(at + 1), modelName: item.slice(0, at) } : { url: item, modelName: undefined });
  }
  return entries;
}
