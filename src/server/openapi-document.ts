/**
 * The OpenAPI document without a running server: the app is built on a throwaway home (SQLite in a
 * temporary folder, no pipelines, an executor that runs nothing, the scheduler never started) and
 * asked for its document, which is what GET /api/openapi.json answers. The web UI's API types are
 * generated from it.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../config/index.js";
import { LaunchError, type Executor } from "../executors/index.js";
import { Platform } from "../wiring/index.js";
import { buildServer } from "./app.js";

/** The document's platform starts no process: nothing is ever launched on it. */
const NO_EXECUTOR: Executor = {
  name: "local",
  onAttemptEnd: () => undefined,
  canLaunch: () => false,
  launch: () => Promise.reject(new LaunchError("the OpenAPI document's platform runs nothing", { retryable: false })),
  kill: () => Promise.resolve(),
  adopt: () => Promise.resolve(new Map()),
  close: () => Promise.resolve(),
};

export async function openApiDocument(): Promise<Record<string, unknown>> {
  const home = mkdtempSync(join(tmpdir(), "capstan-openapi-"));
  try {
    const pipelines = join(home, "pipelines");
    mkdirSync(pipelines);
    // No environment and no capstan.yaml: the document never depends on where it is made.
    const config = loadConfig({ home: join(home, "home"), pipelines: [pipelines], databaseUrl: "sqlite" }, {}, home);
    const platform = await Platform.open({ config, logger: pino({ level: "silent" }), executors: new Map([["local", NO_EXECUTOR]]) });
    try {
      const app = await buildServer({ platform }, { webRoot: null });
      await app.ready();
      const document = app.swagger() as unknown as Record<string, unknown>;
      await app.close();
      return document;
    } finally {
      await platform.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
