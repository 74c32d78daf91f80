/**
 * Sandbox benchmark, on a real server, store and local JupyterLab (the project's venv, warm):
 *   - start → JupyterLab answering: POST /api/sandboxes/{id}/start until it answers (sshd starts
 *     alongside), after one warm-up start, beside the same JupyterLab started by hand; goal ≤ 3 s;
 *   - proxy overhead: HTTP GET /api/status p50/p99 and a kernel `execute` of `1+1` over the kernel's
 *     WebSocket, through Capstan (the sandbox's own origin, its cookie) vs straight to JupyterLab
 *     (its token), and through configurable-http-proxy (JupyterHub's proxy) in front of the same
 *     JupyterLab when it is installed in the cache (~/.cache/capstan/bench-sandboxes; see below);
 *     goal ≤ 1 ms added at p50 and less than configurable-http-proxy adds.
 * Rounds alternate between the paths so that a noisy neighbour on a shared machine hits all of them.
 * Capstan runs in a process of its own (capstan-server.ts), as the proxies and JupyterLab do.
 *
 *   npx tsx bench/sandboxes/run.ts [--quick] [--proxy-only]   (--proxy-only: one start, not timed)
 *
 * configurable-http-proxy is looked for in $CAPSTAN_BENCH_CACHE (default ~/.cache/capstan/bench-sandboxes):
 *   npm install --prefix ~/.cache/capstan/bench-sandboxes/chp configurable-http-proxy
 * Without it the benchmark says so and prints the figures it has.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { cpus, homedir, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { jupyterConfig } from "../../src/sandboxes/local/jupyter-launch.js";
import { execute, openKernelSocket, startKernel } from "../../test/sandboxes/jupyter-client.js";

const quick = process.argv.includes("--quick");
const proxyOnly = process.argv.includes("--proxy-only");
const START_ROUNDS = proxyOnly ? 0 : quick ? 3 : 6;
const HTTP_ROUNDS = quick ? 4 : 10;
const HTTP_PER_ROUND = quick ? 100 : 250;
const WS_ROUNDS = quick ? 4 : 10;
const WS_PER_ROUND = quick ? 25 : 60;
const GOAL_START_S = 3;
const GOAL_ADDED_MS = 1;
const REPO = resolve(import.meta.dirname, "..", "..");
const CACHE = process.env.CAPSTAN_BENCH_CACHE ?? join(homedir(), ".cache", "capstan", "bench-sandboxes");
const PYTHON = process.env.CAPSTAN_PYTHON ?? join(REPO, ".venv", "bin", "python");
const CHP_BIN = join(CACHE, "chp", "node_modules", "configurable-http-proxy", "bin", "configurable-http-proxy");

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;

/** One HTTP path to JupyterLab: where to connect and the headers that get through. */
interface HttpPath {
  name: string;
  port: number;
  headers: Record<string, string>;
  agent: Agent;
}

function get(path: HttpPath, url: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const req = request({ host: "127.0.0.1", port: path.port, path: url, headers: path.headers, agent: path.agent }, (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`${path.name}: GET ${url} answered ${res.statusCode}`));
        else resolvePromise(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((res) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        res(true);
      });
      socket.on("error", () => res(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((res) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => res(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * The same JupyterLab started by hand, without Capstan (its configuration, the venv's Python): seconds
 * until it answers, the reference for Capstan's start.
 */
async function bareJupyterStart(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "capstan-bench-jupyter-"));
  const port = await freePort();
  const config = join(dir, "jupyter_server_config.py");
  mkdirSync(join(dir, "home"));
  writeFileSync(config, jupyterConfig({ token: "bench", port, home: join(dir, "home") }));
  const started = performance.now();
  const child = spawn(PYTHON, ["-m", "jupyterlab", `--config=${config}`], { env: { PATH: process.env.PATH ?? "", HOME: join(dir, "home"), JUPYTER_CONFIG_DIR: join(dir, "cfg"), JUPYTER_RUNTIME_DIR: join(dir, "rt") }, stdio: "ignore" });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: "token bench" } }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return (performance.now() - started) / 1000;
      if (child.exitCode !== null) throw new Error("JupyterLab exited before it answered");
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    child.kill();
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** configurable-http-proxy in front of JupyterLab, when it is in the cache. */
async function startChp(upstreamPort: number): Promise<{ port: number; child: ChildProcess } | string> {
  if (!existsSync(CHP_BIN)) return `configurable-http-proxy is not installed at ${CHP_BIN} (npm install --prefix ${join(CACHE, "chp")} configurable-http-proxy)`;
  const port = await freePort();
  const apiPort = await freePort();
  const child = spawn(process.execPath, [CHP_BIN, "--ip", "127.0.0.1", "--port", String(port), "--api-ip", "127.0.0.1", "--api-port", String(apiPort), "--default-target", `http://127.0.0.1:${upstreamPort}`, "--log-level", "error"], {
    env: { ...process.env, CONFIGPROXY_AUTH_TOKEN: "bench" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForPort(port, 15_000);
  return { port, child };
}

/** The Capstan server in its own process (capstan-server.ts): its URL and token, and a way to ask it for a sandbox's upstream. */
async function startCapstan(): Promise<{ url: string; token: string; target(id: string): Promise<{ upstream: string; token: string } | null>; quit(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "capstan-server.ts")], { stdio: ["pipe", "pipe", "inherit"], cwd: REPO });
  const iterator: AsyncIterator<string> = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await iterator.next();
    if (line.done === true) throw new Error("the Capstan server process ended");
    return line.value;
  };
  const hello = JSON.parse(await next()) as { url: string; token: string };
  return {
    ...hello,
    async target(id) {
      child.stdin.write(`target ${id}\n`);
      return JSON.parse(await next()) as { upstream: string; token: string } | null;
    },
    async quit() {
      child.stdin.end("quit\n");
      await new Promise((res) => child.once("exit", res));
    },
  };
}

async function main(): Promise<void> {
  const capstan = await startCapstan();
  const { token } = capstan;
  const port = Number(new URL(capstan.url).port);
  const api = capstan.url;
  const call = async <T>(method: string, path: string): Promise<T> => {
    const body = method === "POST" && path === "/api/sandboxes" ? JSON.stringify({ name: "bench" }) : undefined;
    const response = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body } : {}) });
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  let chp: ChildProcess | undefined;
  const load = () => `load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} cores`;
  console.log(`machine: ${load()}`);
  try {
    const { id } = await call<{ id: string }>("POST", "/api/sandboxes");

    // Start → JupyterLab answering: the start answers once JupyterLab answers its API.
    console.log(`start → JupyterLab answering (local backend, warm venv; ${START_ROUNDS} starts after one warm-up)`);
    const starts: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i <= START_ROUNDS; i++) {
      const started = performance.now();
      const view = await call<{ state: string; reason: string | null }>("POST", `/api/sandboxes/${id}/start`);
      const took = (performance.now() - started) / 1000;
      if (view.state !== "running") throw new Error(`the sandbox did not start: ${view.reason ?? view.state}`);
      if (i > 0) starts.push(took);
      if (i < START_ROUNDS) {
        await call("POST", `/api/sandboxes/${id}/stop`);
        bare.push(await bareJupyterStart());
      }
    }
    if (starts.length > 0) {
      const startMedian = percentile(starts, 50);
      const bareMedian = percentile(bare, 50);
      console.log(`  Capstan:            median ${startMedian.toFixed(2)} s, min ${Math.min(...starts).toFixed(2)} s, max ${Math.max(...starts).toFixed(2)} s   goal ≤ ${GOAL_START_S} s: ${startMedian <= GOAL_START_S ? "met" : "NOT met"}`);
      console.log(`  JupyterLab by hand: median ${bareMedian.toFixed(2)} s, min ${Math.min(...bare).toFixed(2)} s, max ${Math.max(...bare).toFixed(2)} s   (Capstan/by hand at the median: ${(startMedian / bareMedian).toFixed(2)})`);
    }

    // The three paths to the same JupyterLab.
    const target = await capstan.target(id);
    if (!target) throw new Error("the sandbox does not run");
    const upstreamPort = Number(new URL(target.upstream).port);
    const { url: openUrl } = await call<{ url: string }>("POST", `/api/sandboxes/${id}/open`);
    const origin = new URL(openUrl).origin;
    const cookie = await new Promise<string>((res, reject) => {
      const u = new URL(openUrl);
      request({ host: "127.0.0.1", port, path: u.pathname + u.search, headers: { host: u.host } }, (r) => {
        r.resume();
        const set = r.headers["set-cookie"]?.[0];
        if (r.statusCode === 303 && set) res(set.split(";")[0]!);
        else reject(new Error(`opening the sandbox answered ${r.statusCode}`));
      })
        .on("error", reject)
        .end();
    });
    const started = await startChp(upstreamPort);
    const chpNote = typeof started === "string" ? started : undefined;
    if (typeof started !== "string") chp = started.child;
    const direct = { authorization: `token ${target.token}` };
    const paths: HttpPath[] = [
      { name: "direct", port: upstreamPort, headers: direct, agent: new Agent({ keepAlive: true, maxSockets: 1 }) },
      { name: "Capstan", port, headers: { host: new URL(origin).host, cookie }, agent: new Agent({ keepAlive: true, maxSockets: 1 }) },
      ...(typeof started === "string" ? [] : [{ name: "configurable-http-proxy", port: started.port, headers: direct, agent: new Agent({ keepAlive: true, maxSockets: 1 }) }]),
    ];

    const http = new Map<string, number[]>(paths.map((p) => [p.name, []]));
    for (const path of paths) for (let i = 0; i < 50; i++) await get(path, "/api/status");
    for (let round = 0; round < HTTP_ROUNDS; round++) {
      for (const path of paths) for (let i = 0; i < HTTP_PER_ROUND; i++) http.get(path.name)!.push(await get(path, "/api/status"));
    }

    const kernel = await startKernel(target.upstream, { headers: direct });
    const sockets = await Promise.all(
      paths.map(async (path) => ({
        name: path.name,
        socket: await openKernelSocket(`http://127.0.0.1:${path.port}/`, kernel, { headers: path.name === "Capstan" ? { host: new URL(origin).host, cookie, origin } : direct }),
      })),
    );
    const ws = new Map<string, number[]>(paths.map((p) => [p.name, []]));
    for (const { socket } of sockets) for (let i = 0; i < 10; i++) await execute(socket, "1+1");
    for (let round = 0; round < WS_ROUNDS; round++) {
      for (const { name, socket } of sockets) {
        for (let i = 0; i < WS_PER_ROUND; i++) {
          const t0 = performance.now();
          const result = await execute(socket, "1+1");
          ws.get(name)!.push(performance.now() - t0);
          if (result !== "2") throw new Error(`${name}: 1+1 gave ${JSON.stringify(result)}`);
        }
      }
    }
    for (const { socket } of sockets) socket.close();

    const report = (title: string, samples: Map<string, number[]>) => {
      console.log(`\n${title}`);
      const base50 = percentile(samples.get("direct")!, 50);
      const base99 = percentile(samples.get("direct")!, 99);
      for (const [name, values] of samples) {
        const p50 = percentile(values, 50);
        const p99 = percentile(values, 99);
        console.log(`  ${name.padEnd(24)} p50 ${ms(p50).padStart(10)}  p99 ${ms(p99).padStart(10)}${name === "direct" ? "" : `   added p50 ${ms(p50 - base50)}, p99 ${ms(p99 - base99)}`}  (n=${values.length})`);
      }
      const capstanAdded = percentile(samples.get("Capstan")!, 50) - base50;
      const chpValues = samples.get("configurable-http-proxy");
      const chpAdded = chpValues ? percentile(chpValues, 50) - base50 : undefined;
      console.log(`  Capstan adds ${ms(capstanAdded)} at p50 (goal ≤ ${GOAL_ADDED_MS} ms: ${capstanAdded <= GOAL_ADDED_MS ? "met" : "NOT met"})`);
      if (chpAdded !== undefined) {
        console.log(`  configurable-http-proxy adds ${ms(chpAdded)} at p50; Capstan/CHP added at p50: ${(capstanAdded / chpAdded).toFixed(2)} (goal < 1: ${capstanAdded < chpAdded ? "met" : "NOT met"})`);
        console.log(`  p50 ratios to direct: Capstan ${(percentile(samples.get("Capstan")!, 50) / base50).toFixed(2)}, configurable-http-proxy ${(percentile(chpValues!, 50) / base50).toFixed(2)}`);
      } else console.log(`  p50 ratio to direct: Capstan ${(percentile(samples.get("Capstan")!, 50) / base50).toFixed(2)}`);
    };
    report(`HTTP GET /api/status, one keep-alive connection, sequential (${HTTP_ROUNDS} alternating rounds of ${HTTP_PER_ROUND})`, http);
    report(`kernel execute of 1+1 over the kernel's WebSocket, sequential (${WS_ROUNDS} alternating rounds of ${WS_PER_ROUND})`, ws);
    if (chpNote) console.log(`\nnot compared with configurable-http-proxy: ${chpNote}`);
    console.log(`\nmachine at the end: ${load()}`);
    console.log("JupyterHub itself is not in the path of a running server's traffic (configurable-http-proxy is); its hub was not run.");
  } finally {
    chp?.kill();
    await capstan.quit();
  }
}

await main();
