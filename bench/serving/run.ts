/**
 * Serving benchmark: `capstan serve` and TorchServe 0.12 side by side on this machine, with the same
 * archives (built by torch-model-archiver), the same worker Python and the same load generator
 * (autocannon in its own process): a no-op handler and an MNIST-sized torch model, at concurrency 1
 * and 16 and batch sizes 1 and 8. Both servers run at once and take turns case by case, so a busy
 * shared machine slows both alike; start-ups are measured one after the other. Prints throughput, p50/p99, resident memory of the server with its
 * workers, and the time from start to the first answered request, with ratios against TorchServe.
 *
 *   bench/serving/setup-anchor.sh          # once: TorchServe, torch-model-archiver and torch, outside the repo
 *   npm run build && npx tsx bench/serving/run.ts [--seconds S] [--workers N] [--rounds R]
 *
 * Without the anchor venv the script measures capstan serve alone and says what is missing; without
 * torch it measures the no-op handler alone and says so.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ANCHOR_VENV, ROOT, benchEnvironment, writeArchives, writeProperties } from "./anchor.js";
import { startServer, type LoadResult, type RunningServer } from "./load.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a whole number ≥ 1, got ${String(args[i + 1])}`);
  return value;
};
const SECONDS = option("--seconds", 10);
const WORKERS = option("--workers", 2);
const ROUNDS = option("--rounds", 2);
const CONCURRENCIES = [1, 16];

/** One server's figures: start-up, memory after load, and each case's rounds. */
interface Figures { startupMs: number; rssBytes: number; pythons: number; loads: Map<string, LoadResult[]> }

async function main(): Promise<void> {
  const env = benchEnvironment();
  if (!existsSync(join(ROOT, "dist", "cli", "commands", "serve.js"))) throw new Error("dist/ has no serve command: run npm run build first");
  const dir = mkdtempSync(join(tmpdir(), "capstan-serve-bench-"));
  const store = join(dir, "store");
  mkdirSync(store);
  const models = writeArchives(env, dir, store, WORKERS);
  const mnistBody = JSON.stringify(Array.from({ length: 784 }, (_, i) => (i % 7) / 7));
  const bodyOf = (model: string) => (model.startsWith("mnist") ? mnistBody : "[0]");

  console.log(`serving benchmark: ${WORKERS} worker(s) per model, ${ROUNDS} round(s) of autocannon ${SECONDS} s per model and concurrency, the servers taking turns in each case; medians shown`);
  console.log(`archives: ${models.join(", ")} — built by ${env.archiver ?? "the tests' archive builder (no torch-model-archiver installed)"}`);
  console.log(`worker Python (both servers): ${env.python}`);
  if (!env.withTorch) console.log(`MNIST-sized torch model: skipped — ${env.python} cannot import torch (bench/serving/setup-anchor.sh installs it in ${ANCHOR_VENV})`);
  if (env.anchorMissing) console.log(`TorchServe anchor: not measured — ${env.anchorMissing}`);

  const servers: RunningServer[] = [];
  try {
    // Started one after the other, so each start-up has the machine to itself.
    servers.push(await startServer({
      label: "capstan serve", cwd: dir, models, bodyOf, port: 18080,
      command: process.execPath,
      argv: [join(ROOT, "bin", "capstan.js"), "serve", "--model-store", store, "--models", ...models.map((m) => `${m}.mar`), "--ts-config", writeProperties(dir, "capstan.properties", 18080, WORKERS), "--disable-token-auth"],
      env: { ...process.env, CAPSTAN_PYTHON: env.python },
    }));
    if (env.torchserve) {
      servers.push(await startServer({
        label: "torchserve", cwd: dir, models, bodyOf, port: 28080,
        command: env.torchserve,
        argv: ["--start", "--foreground", "--ncs", "--model-store", store, "--models", ...models.map((m) => `${m}.mar`), "--ts-config", writeProperties(dir, "torchserve.properties", 28080, WORKERS), "--disable-token-auth"],
        // TorchServe starts its workers with the launcher's Python; its logs go under the bench folder.
        env: { ...process.env, PATH: `${dirname(env.torchserve)}:${process.env["PATH"] ?? ""}`, LOG_LOCATION: join(dir, "ts-logs"), METRICS_LOCATION: join(dir, "ts-logs") },
      }));
    }
    const figures = servers.map((): Map<string, LoadResult[]> => new Map());
    for (let round = 0; round < ROUNDS; round++) {
      for (const model of models) {
        for (const connections of CONCURRENCIES) {
          const order = round % 2 === 0 ? servers.map((_, i) => i) : servers.map((_, i) => i).reverse();
          for (const i of order) {
            const result = await servers[i]!.load(model, connections, SECONDS);
            const key = `${model} c${connections}`;
            figures[i]!.set(key, [...(figures[i]!.get(key) ?? []), result]);
          }
        }
      }
    }
    const all = servers.map((server, i): Figures => {
      const { rssBytes, pythons } = server.memory();
      return { startupMs: server.startupMs, rssBytes, pythons, loads: figures[i]! };
    });
    report(all[0]!, all[1]);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function report(capstan: Figures, torchserve: Figures | undefined): void {
  const mb = (b: number) => `${(b / 1024 ** 2).toFixed(0)} MB`;
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(`\nstart to first answer: capstan ${capstan.startupMs} ms${torchserve ? `, torchserve ${torchserve.startupMs} ms, ratio ${ratio(capstan.startupMs, torchserve.startupMs)} (goal ≤ 0.20)` : ""}`);
  console.log(`resident memory, server + workers after load: capstan ${mb(capstan.rssBytes)} (${capstan.pythons} Python processes)${torchserve ? `, torchserve ${mb(torchserve.rssBytes)} (JVM + ${torchserve.pythons} Python processes), ratio ${ratio(capstan.rssBytes, torchserve.rssBytes)} (goal ≤ 0.25)` : ""}`);
  console.log("\ncase            capstan req/s   p50   p99  cpu | torchserve req/s   p50   p99  cpu | req/s ratio (goal ≥ 1)  p99 ratio (goal ≤ 1)  cpu ratio");
  for (const [name, rounds] of capstan.loads) {
    const figure = (results: LoadResult[]) => ({ rps: median(results.map((r) => r.rps)), p50: median(results.map((r) => r.p50)), p99: median(results.map((r) => r.p99)), cpu: median(results.map((r) => r.cpuMsPerRequest)), failed: results.reduce((n, r) => n + r.non2xx + r.errors, 0) });
    const c = figure(rounds);
    const anchorRounds = torchserve?.loads.get(name);
    const t = anchorRounds ? figure(anchorRounds) : undefined;
    const failures = (f: { failed: number }, who: string) => (f.failed > 0 ? ` [${who}: ${f.failed} failed requests]` : "");
    const anchor = t ? `${t.rps.toFixed(0).padStart(16)} ${String(t.p50).padStart(5)} ${String(t.p99).padStart(5)} ${t.cpu.toFixed(2).padStart(4)} | ${ratio(c.rps, t.rps).padStart(22)} ${ratio(c.p99 || 0.5, t.p99 || 0.5).padStart(20)} ${ratio(c.cpu, t.cpu).padStart(10)}` : `${"—".padStart(16)} ${"".padStart(16)} |`;
    console.log(`${name.padEnd(15)} ${c.rps.toFixed(0).padStart(13)} ${String(c.p50).padStart(5)} ${String(c.p99).padStart(5)} ${c.cpu.toFixed(2).padStart(4)} | ${anchor}${failures(c, "capstan")}${t ? failures(t, "torchserve") : ""}`);
  }
  console.log("\nlatencies in ms (autocannon rounds to whole ms; a p99 of 0 is counted as 0.5 ms in the ratio); cpu: CPU ms the server and its workers spent per answered request (user + system, all threads), which a busy shared machine disturbs far less than req/s");
}

await main();
