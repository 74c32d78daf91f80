/**
 * Measures one server: starts it as its own process group, times start → first answer, drives each
 * model at each concurrency with autocannon (in its own process, the same for both servers), reads
 * the resident memory of the server and all its descendants, and stops the group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./anchor.js";

const AUTOCANNON = join(ROOT, "node_modules", "autocannon", "autocannon.js");

export interface LoadResult { rps: number; p50: number; p99: number; non2xx: number; errors: number }
export interface ServerFigures { startupMs: number; rssBytes: number; workers: number; loads: Map<string, LoadResult> }

/** What to start and how to drive it. */
export interface ServerRun {
  label: string;
  command: string;
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  port: number;
  models: string[];
  bodyOf: (model: string) => string;
  seconds: number;
  concurrencies: number[];
}

/** RSS of `pid` and every descendant, and how many descendants run Python. */
function treeMemory(pid: number): { rssBytes: number; pythons: number } {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  let rssBytes = 0;
  let pythons = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    try {
      const status = readFileSync(`/proc/${next}/status`, "utf8");
      rssBytes += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      if (next !== pid && /^Name:\s+python/m.test(status)) pythons++;
    } catch {
      // gone
    }
    stack.push(...(children.get(next) ?? []));
  }
  return { rssBytes, pythons };
}

function load(url: string, body: string, connections: number, seconds: number): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [AUTOCANNON, "--json", "-m", "POST", "-H", "content-type=application/json", "-b", body, "-c", String(connections), "-d", String(seconds), url], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const r = JSON.parse(out) as { latency: { p50: number; p99: number }; requests: { average: number }; errors: number; non2xx: number };
      resolvePromise({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
    });
  });
}

async function firstAnswer(url: string, body: string, started: number, child: ChildProcess): Promise<number> {
  for (;;) {
    if (Date.now() - started > 300_000) throw new Error(`no answer from ${url} within 300 s`);
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before answering`);
    try {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      if (response.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts, measures and stops one server. */
export async function measureServer(run: ServerRun): Promise<ServerFigures> {
  const started = Date.now();
  const child = spawn(run.command, run.argv, { cwd: run.cwd, detached: true, stdio: ["ignore", "ignore", "pipe"], env: run.env });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const urlOf = (model: string) => `http://127.0.0.1:${run.port}/predictions/${model}`;
  try {
    const first = run.models[0]!;
    const startupMs = await firstAnswer(urlOf(first), run.bodyOf(first), started, child).catch((error: Error) => {
      throw new Error(`${run.label}: ${error.message}\n${stderr}`);
    });
    for (const model of run.models) await firstAnswer(urlOf(model), run.bodyOf(model), started, child);
    const loads = new Map<string, LoadResult>();
    for (const model of run.models) {
      for (const connections of run.concurrencies) loads.set(`${model} c${connections}`, await load(urlOf(model), run.bodyOf(model), connections, run.seconds));
    }
    const { rssBytes, pythons } = treeMemory(child.pid!);
    return { startupMs, rssBytes, workers: pythons, loads };
  } finally {
    try {
      process.kill(-child.pid!, "SIGTERM");
      await new Promise((r) => setTimeout(r, 3000));
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
