/**
 * The Capstan side of bench/sandboxes, in a process of its own (as configurable-http-proxy and
 * JupyterLab have theirs, so that the benchmark's client never shares an event loop with a proxy):
 * a platform on a temporary home, the API server on loopback, a team `bench` with an editor and
 * an API token. Prints {"url","token"} as one line, then answers `target ID` on stdin with where that
 * sandbox's JupyterLab answers and its token (for the direct path); `quit` stops sandboxes and exits.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import pino from "pino";
import { AuthService } from "../../src/auth/index.js";
import { loadConfig } from "../../src/config/index.js";
import { buildServer } from "../../src/server/index.js";
import { Platform } from "../../src/wiring/index.js";

const REPO = resolve(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "capstan-bench-sandboxes-"));
mkdirSync(join(dir, "pipelines"));
const config = loadConfig({ home: join(dir, "home"), pipelines: [join(dir, "pipelines")] }, { CAPSTAN_PYTHON: process.env.CAPSTAN_PYTHON ?? join(REPO, ".venv", "bin", "python") }, dir);
const platform = await Platform.open({ config, logger: pino({ level: "silent" }) });
const auth = new AuthService(platform.store);
await auth.createTeam("bench", null);
await auth.createUser({ username: "ann" });
await auth.setMember("bench", "ann", "editor");
const token = (await auth.createToken("ann", "bench", null)).token;
const server = await buildServer({ platform, auth }, { webRoot: null });
await server.listen({ port: 0, host: "127.0.0.1" });
const address = server.server.address();
const port = typeof address === "object" && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, token })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const [command, id] = line.trim().split(/\s+/);
  if (command === "target" && id) {
    const target = await platform.sandboxes.target(id);
    process.stdout.write(`${JSON.stringify(target ? { upstream: target.upstream, token: target.token } : null)}\n`);
  } else if (command === "quit") break;
}
for (const row of await platform.store.sandboxes.list({ states: ["starting", "running", "stopping"] })) await platform.sandboxes.stopIdle(row.id);
await server.close();
await platform.close();
rmSync(dir, { recursive: true, force: true });
