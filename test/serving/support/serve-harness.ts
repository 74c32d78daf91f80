/**
 * Starts a real `capstan serve` in the test process (real Fastify listeners on free ports, real
 * Python workers from the project venv) over a fresh model store, and calls it like a client.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadServeConfig, startModelServer, type ModelServer, type ServeConfig } from "../../../src/serving/index.js";
import { writeMar, type MarSpec } from "./mar-builder.js";

const repoRoot = resolve(import.meta.dirname, "..", "..", "..");

/** The venv's Python: $CAPSTAN_PYTHON, else the repository's .venv. */
export const python = process.env["CAPSTAN_PYTHON"] || join(repoRoot, ".venv", "bin", "python");

/** A running server with its model store. */
export interface ServeHarness {
  server: ModelServer;
  store: string;
  config: ServeConfig;
  log: string[];
  /** calls the inference API with the inference key */
  infer(path: string, init?: RequestInit): Promise<Response>;
  /** calls the management API with the management key */
  manage(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** What the test wants: archives in the store, config.properties lines, flags. */
export interface HarnessOptions {
  archives?: Record<string, MarSpec>;
  properties?: Record<string, string>;
  models?: string[];
  disableTokenAuth?: boolean;
  backoffMs?: number[];
}

/** Starts a server; call stop() when done. */
export async function startServe(options: HarnessOptions = {}): Promise<ServeHarness> {
  if (!existsSync(python)) throw new Error(`the serving tests need ${python}: run scripts/setup-python.sh`);
  const dir = mkdtempSync(join(tmpdir(), "capstan-serve-test-"));
  const store = join(dir, "model-store");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(store);
  for (const [file, spec] of Object.entries(options.archives ?? {})) writeMar(join(store, file), spec);
  const properties = {
    inference_address: "http://127.0.0.1:0",
    management_address: "http://127.0.0.1:0",
    metrics_address: "http://127.0.0.1:0",
    default_workers_per_model: "1",
    number_of_gpu: "0",
    ...options.properties,
  };
  writeFileSync(join(dir, "config.properties"), Object.entries(properties).map(([k, v]) => `${k}=${v}`).join("\n"));
  const config = loadServeConfig({ modelStore: store, models: options.models, tsConfig: join(dir, "config.properties"), disableTokenAuth: options.disableTokenAuth }, python, dir);
  const log: string[] = [];
  const server = await startModelServer(config, { log: (line) => log.push(line), backoffMs: options.backoffMs ?? [50, 100, 200] });
  const withKey = (kind: "inference" | "management", init: RequestInit = {}): RequestInit => {
    const headers = new Headers(init.headers);
    if (server.keys && !headers.has("authorization")) headers.set("authorization", `Bearer ${server.keys.key(kind)}`);
    return { ...init, headers };
  };
  return {
    server,
    store,
    config,
    log,
    infer: (path, init) => fetch(`${server.urls.inference}${path}`, withKey("inference", init)),
    manage: (path, init) => fetch(`${server.urls.management}${path}`, withKey("management", init)),
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
