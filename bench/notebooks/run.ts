/**
 * Notebook benchmark: papermill against `capstan notebook run` on the same machine, median of
 * several runs, for (a) a 1-cell notebook, (b) 50 cells with small outputs, (c) 20 small
 * notebooks one after another, (d) 8 notebooks at once. Capstan runs with a warm kernel pool as
 * `capstan up` keeps one, through bin/capstan.js and through bench/notebooks/notebook-entry.mjs
 * (the notebook command alone, to show what the CLI's own start-up costs). Prints the medians
 * and the ratios papermill / capstan.
 *
 *   npx tsx bench/notebooks/run.ts [--runs N] [--pool-size N]
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import { KernelPool } from "../../src/notebooks/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const python = process.env["CAPSTAN_PYTHON"] || join(root, ".venv", "bin", "python");
const papermill = join(dirname(python), "papermill");
const capstan = join(root, "bin", "capstan.js");

const { values: flags } = parseArgs({ options: { runs: { type: "string", default: "5" }, "pool-size": { type: "string", default: "8" } } });
const runs = Math.max(1, Number(flags.runs));
const poolSize = Math.max(1, Number(flags["pool-size"]));

interface Timed {
  seconds: number;
  ok: boolean;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Timed> {
  const start = performance.now();
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("close", (code) => {
      if (code !== 0) {
        process.stderr.write(`${command} ${args.join(" ")} exited ${code}:\n${stderr.slice(-2000)}\n`);
      }
      done({ seconds: (performance.now() - start) / 1000, ok: code === 0 });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function notebookJson(sources: string[]): string {
  return JSON.stringify({
    cells: sources.map((source, index) => ({ cell_type: "code", execution_count: null, id: `c${index}`, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" }, language_info: { name: "python" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "capstan-bench-"));
  const poolDir = join(work, "pool");
  const one = join(work, "one.ipynb");
  const fifty = join(work, "fifty.ipynb");
  await writeFile(one, notebookJson(["print('hello')"]));
  await writeFile(fifty, notebookJson(Array.from({ length: 50 }, (_, index) => `x${index} = ${index} * 2\nprint(x${index})`)));
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, CAPSTAN_PYTHON: python };
  const warmEnv: NodeJS.ProcessEnv = { ...baseEnv, CAPSTAN_KERNEL_POOL_DIR: poolDir };
  const pool = new KernelPool({ dir: poolDir, size: poolSize, kernelspecs: ["python3"], python, env: baseEnv, log: (message) => process.stderr.write(`${message}\n`) });
  await pool.start();
  await pool.whenFull();

  const entry = join(root, "bench", "notebooks", "notebook-entry.mjs");
  const papermillRun = (input: string, output: string): Promise<Timed> => run(papermill, [input, output, "--no-progress-bar"], baseEnv, work);
  const capstanRun = (input: string, output: string, env = warmEnv): Promise<Timed> => run(process.execPath, [capstan, "notebook", "run", input, output, "--no-progress-bar"], env, work);
  const entryRun = (input: string, output: string, env = warmEnv): Promise<Timed> => run(process.execPath, [entry, "notebook", "run", input, output, "--no-progress-bar"], env, work);
  const rows: (string | number)[][] = [];
  const failures: string[] = [];
  const record = (name: string, reference: Timed[], cli: Timed[], slim: Timed[], note = ""): void => {
    if ([...cli, ...slim].some((timed) => !timed.ok)) {
      failures.push(name);
    }
    const referenceFailures = reference.filter((timed) => !timed.ok).length;
    if (referenceFailures > 0) {
      note = `${note ? `${note}; ` : ""}papermill failed ${referenceFailures} of ${reference.length}`;
    }
    const p = median(reference.map((timed) => timed.seconds));
    const c = median(cli.map((timed) => timed.seconds));
    const e = median(slim.map((timed) => timed.seconds));
    rows.push([name, p.toFixed(2), c.toFixed(2), `${(p / c).toFixed(1)}x`, e.toFixed(2), `${(p / e).toFixed(1)}x`, note]);
  };

  // CLI start-up alone, to tell it apart from notebook work.
  const startup: Timed[] = [];
  const entryStartup: Timed[] = [];
  for (let index = 0; index < runs; index += 1) {
    startup.push(await run(process.execPath, [capstan, "--help"], baseEnv, work));
    entryStartup.push(await run(process.execPath, [entry, "notebook", "run", "--help"], baseEnv, work));
  }

  for (const [name, input] of [
    ["(a) 1 cell", one],
    ["(b) 50 cells", fifty],
  ] as const) {
    const reference: Timed[] = [];
    const cli: Timed[] = [];
    const slim: Timed[] = [];
    const cold: Timed[] = [];
    const coldSlim: Timed[] = [];
    for (let index = 0; index < runs; index += 1) {
      reference.push(await papermillRun(input, join(work, "pm.ipynb")));
      await pool.whenFull();
      cli.push(await capstanRun(input, join(work, "cap.ipynb")));
      await pool.whenFull();
      slim.push(await entryRun(input, join(work, "slim.ipynb")));
      cold.push(await capstanRun(input, join(work, "cold.ipynb"), baseEnv));
      coldSlim.push(await entryRun(input, join(work, "cold-slim.ipynb"), baseEnv));
    }
    record(`${name}, warm pool`, reference, cli, slim);
    record(`${name}, cold start`, reference, cold, coldSlim, "no pool");
  }

  const sequence = async (runner: (input: string, output: string) => Promise<Timed>, tag: string): Promise<Timed> => {
    const start = performance.now();
    let ok = true;
    for (let index = 0; index < 20; index += 1) {
      ok = (await runner(one, join(work, `${tag}-seq-${index}.ipynb`))).ok && ok;
    }
    return { seconds: (performance.now() - start) / 1000, ok };
  };
  const parallel = async (runner: (input: string, output: string) => Promise<Timed>, tag: string): Promise<Timed> => {
    const start = performance.now();
    const results = await Promise.all(Array.from({ length: 8 }, (_, index) => runner(fifty, join(work, `${tag}-par-${index}.ipynb`))));
    const outputs = await Promise.all(results.map((_, index) => readFile(join(work, `${tag}-par-${index}.ipynb`), "utf8")));
    const complete = outputs.every((text) => (text.match(/"status": "completed"/g) ?? []).length === 50);
    return { seconds: (performance.now() - start) / 1000, ok: results.every((result) => result.ok) && complete };
  };
  const sequenceRuns = Math.max(1, Math.ceil(runs / 2));
  for (const [name, body] of [
    ["(c) 20 notebooks in sequence", sequence],
    ["(d) 8 notebooks at once", parallel],
  ] as const) {
    const reference: Timed[] = [];
    const cli: Timed[] = [];
    const slim: Timed[] = [];
    for (let index = 0; index < sequenceRuns; index += 1) {
      reference.push(await body(papermillRun, "pm"));
      await pool.whenFull();
      cli.push(await body((input, output) => capstanRun(input, output), "cap"));
      await pool.whenFull();
      slim.push(await body((input, output) => entryRun(input, output), "slim"));
    }
    record(`${name}, warm pool`, reference, cli, slim, name.startsWith("(d)") ? "all 8 outputs complete, no collisions" : "");
  }
  await pool.stop();
  await rm(work, { recursive: true, force: true });

  const table = new Table({ head: ["case", "papermill s", "capstan s", "ratio", "notebook-only entry s", "ratio", "note"] });
  table.push(...rows);
  process.stdout.write(`${table.toString()}\n`);
  process.stdout.write(`median of ${runs} runs ((c), (d): ${sequenceRuns}); pool size ${poolSize}; start-up alone: capstan --help ${median(startup.map((timed) => timed.seconds)).toFixed(2)} s, notebook-only entry ${median(entryStartup.map((timed) => timed.seconds)).toFixed(2)} s\n`);
  if (failures.length > 0) {
    process.stdout.write(`capstan FAILED runs in: ${failures.join(", ")}\n`);
    process.exitCode = 1;
  }
}

await main();
