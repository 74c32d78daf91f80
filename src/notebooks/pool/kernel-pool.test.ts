/**
 * The warm pool on real kernels: a claimed kernel behaves as a cold one (cwd, environment,
 * execution counts), serves one run only, idle deaths are replaced, stale kernels of an earlier
 * pool process are ended, and stop() ends what is unclaimed.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isProcessAlive, processStartTime } from "../kernel/kernel-process.js";
import { runNotebook } from "../runner/run-notebook.js";
import { assertTestPython, cellText, testPython, writeNotebook } from "../../../test/notebooks/support/notebook-fixtures.js";
import { KernelPool } from "./kernel-pool.js";
import { PoolLayout, writeTicket } from "./pool-layout.js";

let dir: string;
let pools: KernelPool[] = [];

beforeAll(async () => {
  assertTestPython();
  dir = await mkdtemp(join(tmpdir(), "capstan-pool-test-"));
});

afterEach(async () => {
  await Promise.all(pools.map((pool) => pool.stop()));
  pools = [];
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function startPool(name: string, size = 1, env: NodeJS.ProcessEnv = process.env, forkServer = true): Promise<KernelPool> {
  const pool = new KernelPool({ dir: join(dir, name), size, kernelspecs: ["python3"], python: testPython, env, forkServer });
  pools.push(pool);
  await pool.start();
  await pool.whenFull();
  return pool;
}

async function readyPids(pool: string): Promise<number[]> {
  const layout = new PoolLayout(join(dir, pool));
  const entries = await readdir(layout.readyDir("python3"));
  const { readTicket } = await import("./pool-layout.js");
  const tickets = await Promise.all(entries.map((entry) => readTicket(join(layout.readyDir("python3"), entry))));
  return tickets.flatMap((ticket) => (ticket ? [ticket.pid] : []));
}

async function parentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${String(pid)}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

const probe = [
  "import os, sys",
  "print(os.getcwd())",
  "print(os.environ.get('CAPSTAN_TASK'), os.environ.get('JPY_PARENT_PID'))",
  "print(sys.path.count(''), 'MPLBACKEND' in os.environ)",
  "print(sorted(os.environ.items()))",
];

describe("KernelPool", () => {
  it("hands out a kernel that runs like a cold-started one, once", async () => {
    await startPool("claim");
    const [pooledPid] = await readyPids("claim");
    const input = await writeNotebook(join(dir, "probe.ipynb"), [probe.join("\n"), "x = 1", "x + 1"]);
    const workDir = join(dir, "task-cwd");
    await mkdir(workDir, { recursive: true });
    const env = { ...process.env, CAPSTAN_TASK: "task-value" };
    const warm = await runNotebook({ inputPath: input, outputPath: join(dir, "warm.ipynb"), cwd: workDir, env, python: testPython, poolDir: join(dir, "claim") });
    const cold = await runNotebook({ inputPath: input, outputPath: join(dir, "cold.ipynb"), cwd: workDir, env, python: testPython });
    expect(warm.kernel?.origin).toBe("pool");
    expect(cold.kernel?.origin).toBe("cold");
    const lines = cellText(warm.notebook, 0).split("\n");
    expect(lines[0]).toBe(workDir);
    expect(lines[1]).toBe(`task-value ${String(process.pid)}`);
    expect(cellText(warm.notebook, 0)).toBe(cellText(cold.notebook, 0));
    expect(warm.notebook.cells.map((cell) => cell["execution_count"])).toEqual([1, 2, 3]);
    expect(warm.notebook.cells.map((cell) => cell["execution_count"])).toEqual(cold.notebook.cells.map((cell) => cell["execution_count"]));
    for (let tries = 0; tries < 300 && pooledPid !== undefined && isProcessAlive(pooledPid); tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(pooledPid !== undefined && isProcessAlive(pooledPid)).toBe(false);
  });

  it("replaces a kernel that dies while idle", async () => {
    const pool = await startPool("replace");
    const [first] = await readyPids("replace");
    expect(first).toBeDefined();
    process.kill(first ?? 0, "SIGKILL");
    for (let tries = 0; tries < 600; tries += 1) {
      const pids = await readyPids("replace");
      if (pids.length === 1 && pids[0] !== first) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await pool.whenFull();
    const [second] = await readyPids("replace");
    expect(second).not.toBe(first);
    expect(isProcessAlive(second ?? 0)).toBe(true);
  });

  it("ends its unclaimed kernels on stop", async () => {
    const pool = await startPool("stop", 2);
    const pids = await readyPids("stop");
    expect(pids).toHaveLength(2);
    await pool.stop();
    pools = [];
    expect(pids.map((pid) => isProcessAlive(pid))).toEqual([false, false]);
  });

  it("stops cleanly while its checks run back to back", async () => {
    for (let round = 0; round < 3; round += 1) {
      const messages: string[] = [];
      const pool = new KernelPool({ dir: join(dir, `busy-${String(round)}`), size: 3, kernelspecs: ["python3"], python: testPython, checkIntervalMs: 1, log: (message) => messages.push(message) });
      await pool.start();
      await pool.whenFull();
      const pids = await readyPids(`busy-${String(round)}`);
      await pool.stop();
      expect(pids.map((pid) => isProcessAlive(pid))).toEqual([false, false, false]);
      expect(messages).toEqual([]);
    }
  }, 60_000);

  it("ends the kernels a previous pool process left behind", async () => {
    const layout = new PoolLayout(join(dir, "stale"));
    await layout.create(["python3"]);
    const orphan = spawn("sleep", ["600"], { detached: true, stdio: "ignore" });
    const pid = orphan.pid ?? 0;
    await writeTicket(layout.readyTicket("python3", "0-stale"), {
      id: "0-stale",
      kernelspec: "python3",
      pid,
      startTime: processStartTime(pid),
      connection: { transport: "ipc", ip: "/nonexistent/kernel", shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5, key: "k", signature_scheme: "hmac-sha256", kernel_name: "python3" },
      socketDir: join(dir, "stale-sockets"),
      launchEnv: {},
    });
    const exited = new Promise((resolve) => orphan.once("exit", resolve));
    await startPool("stale");
    await exited;
    expect(isProcessAlive(pid)).toBe(false);
    expect(await readyPids("stale")).toHaveLength(1);
  });

  it("cold-starts when a start-sensitive variable differs from the pool's", async () => {
    await startPool("sensitive");
    const input = await writeNotebook(join(dir, "sensitive.ipynb"), ["import sys\nprint('/extra' in sys.path)"]);
    const result = await runNotebook({
      inputPath: input,
      outputPath: join(dir, "sensitive-out.ipynb"),
      env: { ...process.env, PYTHONPATH: "/extra" },
      python: testPython,
      poolDir: join(dir, "sensitive"),
    });
    expect(result.kernel?.origin).toBe("cold");
    expect(cellText(result.notebook, 0)).toBe("True\n");
    expect(await readyPids("sensitive")).toHaveLength(1);
  });

  it("forks kernels from a warm server, each with its own random state; cold starts when forking is off", async () => {
    await startPool("forked", 2);
    const forked = await readyPids("forked");
    expect(forked).toHaveLength(2);
    const parents = await Promise.all(forked.map((pid) => parentPid(pid)));
    expect(parents[0]).toBe(parents[1]);
    expect(parents[0]).not.toBe(process.pid);
    const input = await writeNotebook(join(dir, "random.ipynb"), ["import random\nprint(random.random())"]);
    const draws = await Promise.all(
      [0, 1].map((index) => runNotebook({ inputPath: input, outputPath: join(dir, `random-${index}.ipynb`), python: testPython, poolDir: join(dir, "forked") })),
    );
    expect(draws.map((result) => result.kernel?.origin)).toEqual(["pool", "pool"]);
    const [first, second] = draws.map((result) => cellText(result.notebook, 0));
    expect(first).toMatch(/^0\.\d+\n$/);
    expect(first).not.toBe(second);

    await startPool("unforked", 1, process.env, false);
    const [cold] = await readyPids("unforked");
    expect(await parentPid(cold ?? 0)).toBe(process.pid);
  });

  it("serves parallel runs without collisions, each kernel once", async () => {
    await startPool("parallel", 1);
    const input = await writeNotebook(join(dir, "parallel.ipynb"), ["import os\nprint(os.getpid())"]);
    const results = await Promise.all(
      [0, 1, 2].map((index) => runNotebook({ inputPath: input, outputPath: join(dir, `parallel-${index}.ipynb`), python: testPython, poolDir: join(dir, "parallel") })),
    );
    expect(results.filter((result) => result.kernel?.origin === "pool")).toHaveLength(1);
    const pids = results.map((result) => cellText(result.notebook, 0));
    expect(new Set(pids).size).toBe(3);
  });
});
