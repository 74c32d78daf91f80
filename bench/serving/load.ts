/**
 * Drives the servers: starts each as its own process group and times start → first answer, drives a
 * model at a concurrency with autocannon (in its own process, the same for both servers), reads the
 * resident memory of a server and all its descendants, and stops the group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./anchor.js";

const AUTOCANNON = join(ROOT, "node_modules", "autocannon", "autocannon.js");

export interface LoadResult { rps: number; p50: number; p99: number; non2xx: number; errors: number; total: number; cpuMsPerRequest: number }

/** What to start and how to reach it. */
export interface ServerSpec {
  label: string;
  command: string;
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  port: number;
  models: string[];
  bodyOf: (model: string) => string;
}

/** A started server: its start → first answer time, and how to drive, weigh and stop it. */
export interface RunningServer {
  spec: ServerSpec;
  startupMs: number;
  load(model: string, connections: number, seconds: number): Promise<LoadResult>;
  memory(): { rssBytes: number; pythons: number };
  stop(): Promise<void>;
}

/** The pids of `pid` and every descendant. */
function tree(pid: number): number[] {
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
  const pids: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    pids.push(next);
    stack.push(...(children.get(next) ?? []));
  }
  return pids;
}

/** RSS of `pid` and every descendant, and how many descendants run Python. */
export function treeMemory(pid: number): { rssBytes: number; pythons: number } {
  let rssBytes = 0;
  let pythons = 0;
  for (const next of tree(pid)) {
    try {
      const status = readFileSync(`/proc/${next}/status`, "utf8");
      rssBytes += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      if (next !== pid && /^Name:\s+python/m.test(status)) pythons++;
    } catch {
      // gone
    }
  }
  return { rssBytes, pythons };
}

/** CPU time (user + system, all threads) used so far by `pid` and every live descendant, in ms. */
export function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const next of tree(pid)) {
    try {
      const fields = readFileSync(`/proc/${next}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function load(url: string, body: string, connections: number, seconds: number, serverPid: number): Promise<LoadResult> {
  const cpuBefore = treeCpuMs(serverPid);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [AUTOCANNON, "--json", "-m", "POST", "-H", "content-type=application/json", "-b", body, "-c", String(connections), "-d", String(seconds), url], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const cpuMs = treeCpuMs(serverPid) - cpuBefore;
      const r = JSON.parse(out) as { latency: { p50: number; p99: number }; requests: { average: number; total: number }; errors: number; non2xx: number };
      resolvePromise({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total, cpuMsPerRequest: cpuMs / Math.max(1, r.requests.total) });
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

/** Starts a server and waits until every model has answered once. */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const started = Date.now();
  const child = spawn(spec.command, spec.argv, { cwd: spec.cwd, detached: true, stdio: ["ignore", "ignore", "pipe"], env: spec.env });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const urlOf = (model: string) => `http://127.0.0.1:${spec.port}/predictions/${model}`;
  const stop = async (): Promise<void> => {
    try {
      process.kill(-child.pid!, "SIGTERM");
      await new Promise((r) => setTimeout(r, 3000));
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  try {
    const first = spec.models[0]!;
    const startupMs = await firstAnswer(urlOf(first), spec.bodyOf(first), started, child);
    for (const model of spec.models) await firstAnswer(urlOf(model), spec.bodyOf(model), started, child);
    return {
      spec,
      startupMs,
      load: (model, connections, seconds) => load(urlOf(model), spec.bodyOf(model), connections, seconds, child.pid!),
      memory: () => treeMemory(child.pid!),
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${spec.label}: ${(error as Error).message}\n${stderr}`);
  }
}
