/**
 * Serving benchmark: `capstan serve` and, when installed, TorchServe side by side on this machine,
 * with the same archives and the same load generator (autocannon in its own process): a no-op
 * handler and (when torch is importable) an MNIST-sized torch model, at concurrency 1 and 16 and
 * batch sizes 1 and 8. Prints throughput, p50/p99, resident memory of the server with its workers,
 * and the time from start to the first answered request, with ratios against TorchServe.
 *
 *   npm run build && npx tsx bench/serving/run.ts [--seconds S] [--workers N]
 *
 * TorchServe is the anchor only when `torchserve` and `java` are on PATH and its Python has torch
 * (pip install torchserve torch-model-archiver torch); otherwise the script says which is missing.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeMar, type MarSpec } from "../../test/serving/support/mar-builder.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const SECONDS = option("--seconds", 10);
const WORKERS = option("--workers", 2);
const ROOT = resolve(import.meta.dirname, "..", "..");
const AUTOCANNON = join(ROOT, "node_modules", "autocannon", "autocannon.js");
const PYTHON = process.env["CAPSTAN_PYTHON"] || join(ROOT, ".venv", "bin", "python");

const NOOP_HANDLER = "def handle(data, context):\n    if data is None:\n        return None\n    return ['ok'] * len(data)\n";
const TORCH_HANDLER = `
import json, torch

class Mnist:
    def initialize(self, context):
        torch.manual_seed(0)
        torch.set_num_threads(1)
        self.model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).eval()

    def handle(self, data, context):
        rows = [row.get("body") for row in data]
        x = torch.tensor([r if isinstance(r, list) else json.loads(r) for r in rows], dtype=torch.float32)
        with torch.no_grad():
            return self.model(x).argmax(dim=1).tolist()
`;

interface LoadResult { rps: number; p50: number; p99: number; non2xx: number; errors: number }
interface ServerFigures { startupMs: number; rssBytes: number; loads: Map<string, LoadResult> }

function archives(store: string, withTorch: boolean): string[] {
  const names: string[] = [];
  const add = (name: string, spec: Omit<MarSpec, "modelName">) => {
    writeMar(join(store, `${name}.mar`), { modelName: name, ...spec });
    names.push(name);
  };
  for (const batch of [1, 8]) {
    add(`noop_b${batch}`, { handler: "noop_handler:handle", configFile: "model-config.yaml", files: { "noop_handler.py": NOOP_HANDLER, "model-config.yaml": `batchSize: ${batch}\nmaxBatchDelay: 5\n` } });
    if (withTorch) add(`mnist_b${batch}`, { handler: "mnist_handler.py", configFile: "model-config.yaml", files: { "mnist_handler.py": TORCH_HANDLER, "model-config.yaml": `batchSize: ${batch}\nmaxBatchDelay: 5\n` } });
  }
  return names;
}

function treeRss(pid: number): number {
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
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${next}/status`, "utf8"))?.[1] ?? 0) * 1024;
    } catch {
      // gone
    }
    stack.push(...(children.get(next) ?? []));
  }
  return total;
}

function load(url: string, body: string, connections: number): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [AUTOCANNON, "--json", "-m", "POST", "-H", "content-type=application/json", "-b", body, "-c", String(connections), "-d", String(SECONDS), url], { stdio: ["ignore", "pipe", "pipe"] });
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

async function firstAnswer(url: string, started: number, child: ChildProcess): Promise<number> {
  for (;;) {
    if (Date.now() - started > 180_000) throw new Error(`no answer from ${url} within 180 s`);
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before answering`);
    try {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "[0]" });
      if (response.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measure(label: string, command: string, argv: string[], dir: string, models: string[], port: number, mnistBody: string): Promise<ServerFigures> {
  const started = Date.now();
  const child = spawn(command, argv, { cwd: dir, detached: true, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CAPSTAN_PYTHON: PYTHON } });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    const startupMs = await firstAnswer(`http://127.0.0.1:${port}/predictions/${models[0]}`, started, child).catch((error: Error) => {
      throw new Error(`${label}: ${error.message}\n${stderr}`);
    });
    for (const model of models) await firstAnswer(`http://127.0.0.1:${port}/predictions/${model}`, started, child);
    const loads = new Map<string, LoadResult>();
    for (const model of models) {
      for (const connections of [1, 16]) {
        const body = model.startsWith("mnist") ? mnistBody : "[0]";
        loads.set(`${model} c${connections}`, await load(`http://127.0.0.1:${port}/predictions/${model}`, body, connections));
      }
    }
    const rssBytes = treeRss(child.pid!);
    return { startupMs, rssBytes, loads };
  } finally {
    try {
      process.kill(-child.pid!, "SIGTERM");
      await new Promise((r) => setTimeout(r, 1500));
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function anchorMissing(): string | undefined {
  const has = (cmd: string): boolean => {
    try {
      execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (!has("torchserve")) return "torchserve is not on PATH (pip install torchserve torch-model-archiver torch)";
  if (!has("java")) return "java is not on PATH (TorchServe's frontend needs Java 17)";
  return undefined;
}

function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function config(dir: string, port: number, disableAuth: boolean): string {
  const path = join(dir, "config.properties");
  writeFileSync(path, [`inference_address=http://127.0.0.1:${port}`, `management_address=http://127.0.0.1:${port + 1}`, `metrics_address=http://127.0.0.1:${port + 2}`, `default_workers_per_model=${WORKERS}`, `disable_token_authorization=${disableAuth}`, "number_of_gpu=0"].join("\n"));
  return path;
}

async function main(): Promise<void> {
  const withTorch = torchAvailable();
  const dir = mkdtempSync(join(tmpdir(), "capstan-serve-bench-"));
  const store = join(dir, "store");
  mkdirSync(store);
  const models = archives(store, withTorch);
  const mnistBody = JSON.stringify(Array.from({ length: 784 }, (_, i) => (i % 7) / 7));
  console.log(`serving benchmark: ${WORKERS} worker(s) per model, autocannon ${SECONDS} s per model and concurrency, archives ${models.join(", ")}`);
  if (!withTorch) console.log(`torch model: skipped — ${PYTHON} cannot import torch (pip install torch into that venv to add the MNIST-sized model)`);
  const bin = join(ROOT, "bin", "capstan.js");
  if (!existsSync(join(ROOT, "dist", "cli", "commands", "serve.js"))) throw new Error("dist/ has no serve command: run npm run build first");
  const capstan = await measure("capstan serve", process.execPath, [bin, "serve", "--model-store", store, "--models", ...models.map((m) => `${m}.mar`), "--ts-config", config(dir, 18080, true), "--disable-token-auth"], dir, models, 18080, mnistBody);
  const missing = anchorMissing();
  let torchserve: ServerFigures | undefined;
  if (missing) console.log(`TorchServe anchor: missing — ${missing}; printing capstan serve's figures alone`);
  else torchserve = await measure("torchserve", "torchserve", ["--start", "--foreground", "--ncs", "--model-store", store, "--models", ...models.map((m) => `${m}.mar`), "--ts-config", config(dir, 28080, true), "--disable-token-auth"], dir, models, 28080, mnistBody);
  const mb = (b: number) => `${(b / 1024 ** 2).toFixed(0)} MB`;
  console.log(`\nstart to first answer: capstan ${capstan.startupMs} ms${torchserve ? `, torchserve ${torchserve.startupMs} ms, ratio ${(capstan.startupMs / torchserve.startupMs).toFixed(2)} (goal ≤ 0.20)` : ""}`);
  console.log(`resident memory (server + workers, after load): capstan ${mb(capstan.rssBytes)}${torchserve ? `, torchserve ${mb(torchserve.rssBytes)}, ratio ${(capstan.rssBytes / torchserve.rssBytes).toFixed(2)} (goal ≤ 0.25)` : ""}`);
  console.log("\ncase                 capstan req/s  p50  p99 | torchserve req/s  p50  p99 | throughput ratio (goal ≥ 1)");
  for (const [name, c] of capstan.loads) {
    const t = torchserve?.loads.get(name);
    const flags = c.non2xx + c.errors > 0 ? ` (${c.non2xx} non-2xx, ${c.errors} errors)` : "";
    console.log(`${name.padEnd(20)} ${c.rps.toFixed(0).padStart(13)} ${String(c.p50).padStart(4)} ${String(c.p99).padStart(4)} | ${t ? `${t.rps.toFixed(0).padStart(16)} ${String(t.p50).padStart(4)} ${String(t.p99).padStart(4)} | ${(c.rps / t.rps).toFixed(2)}` : "               — |"}${flags}`);
  }
}

await main();
