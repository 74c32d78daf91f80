/**
 * Reliability: a 300-task pipeline while `capstan up` is killed with SIGKILL at random moments and
 * restarted. The run must end in success with every task in the ledger exactly once, and no try
 * launched twice — on SQLite and on PostgreSQL.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/index.js";
import { runCli, startUp, type UpProcess } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";
import { createTestDatabase } from "../support/postgres.js";

/** A seeded generator so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 300 tasks in layers of mixed widths; each depends on 1–3 tasks of earlier layers. */
function crashPipeline(ledger: string, seed: number): string {
  const rand = random(seed);
  const widths = [1, 5, 40, 12, 3, 60, 25, 8, 1, 30, 50, 15, 20, 10, 20];
  const lines = ["id: crash", "max_active_tasks: 2", "defaults: { retries: 3, retry_delay: 1s }", "tasks:"];
  const layers: string[][] = [];
  let n = 0;
  for (const width of widths) {
    const layer: string[] = [];
    for (let i = 0; i < width; i++) {
      const id = `t${String(n++).padStart(3, "0")}`;
      const earlier = layers.flat();
      const deps = new Set<string>();
      if (earlier.length > 0) {
        const count = Math.min(earlier.length, 1 + Math.floor(rand() * 3));
        const recent = layers[layers.length - 1] ?? [];
        deps.add(recent[Math.floor(rand() * recent.length)] ?? "");
        while (deps.size < count) deps.add(earlier[Math.floor(rand() * earlier.length)] ?? "");
      }
      const sleep = (Math.floor(rand() * 200) / 1000).toFixed(3);
      lines.push(`  ${id}: { command: 'sleep ${sleep}; echo "$CAPSTAN_TASK_ID $CAPSTAN_TRY" >> "${ledger}"'${deps.size > 0 ? `, depends_on: [${[...deps].join(", ")}]` : ""} }`);
      layer.push(id);
    }
    layers.push(layer);
  }
  expect(n).toBe(300);
  return `${lines.join("\n")}\n`;
}

const backends = [
  { name: "SQLite", env: (): Promise<Record<string, string>> => Promise.resolve({}) },
  { name: "PostgreSQL", env: async (): Promise<Record<string, string>> => ({ CAPSTAN_DATABASE_URL: await createTestDatabase() }) },
];

describe.each(backends)("kill -9 of the scheduler during a 300-task run on $name", ({ env: backendEnv }) => {
  it("ends in success with each task run exactly once", { timeout: 600_000 }, async () => {
    const dir = tempDir("capstan-crash-");
    const pipelines = join(dir, "pipelines");
    mkdirSync(pipelines);
    const ledger = join(dir, "ledger.txt");
    writeFileSync(ledger, "");
    chmodSync(ledger, 0o666); // tasks append to it, as nobody when the tests run as root
    const seed = Number(process.env.CAPSTAN_CRASH_SEED ?? Date.now() % 100_000);
    writeFileSync(join(pipelines, "crash.yaml"), crashPipeline(ledger, seed));
    const env: Record<string, string> = { ...(await backendEnv()), CAPSTAN_HOME: join(dir, "home") };
    const global = ["--pipelines", pipelines];

    // Commands authenticate with the token each `capstan up` writes for local commands into its home.
    const start = async () => {
      const started = await startUp(global, { cwd: dir, env });
      env.CAPSTAN_TOKEN = readFileSync(join(dir, "home", "cli-token"), "utf8").trim();
      return started;
    };
    let up: UpProcess = await start();
    const trigger = await runCli([...global, "--server", up.url, "--json", "run", "crash"], { cwd: dir, env });
    expect(trigger.code, trigger.stderr).toBe(0);
    const runId = (JSON.parse(trigger.stdout) as { id: string }).id;

    const rand = random(seed + 1);
    let kills = 0;
    let finished = false;
    while (kills < 6 && !finished) {
      await new Promise((resolve) => setTimeout(resolve, 100 + rand() * 700));
      up.child.kill("SIGKILL");
      await new Promise((resolve) => up.child.once("exit", resolve));
      kills++;
      up = await start();
      const show = await runCli([...global, "--server", up.url, "--json", "runs", "show", runId], { cwd: dir, env });
      finished = (JSON.parse(show.stdout) as { state: string }).state !== "running";
    }
    expect(kills, `the run finished before 5 kills (seed ${seed}); make it longer`).toBeGreaterThanOrEqual(5);

    let view: { state: string; tasks: Record<string, { state: string; tries: number }> } | undefined;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const show = await runCli([...global, "--server", up.url, "--json", "runs", "show", runId], { cwd: dir, env });
      view = JSON.parse(show.stdout) as typeof view;
      if (view && view.state !== "running" && view.state !== "queued") break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    up.child.kill("SIGTERM");
    await new Promise((resolve) => up.child.once("exit", resolve));

    expect(view?.state, `seed ${seed}`).toBe("success");
    const entries = readFileSync(ledger, "utf8").trim().split("\n").map((line) => line.split(" "));
    const counts = new Map<string, number>();
    for (const [task] of entries) counts.set(task ?? "", (counts.get(task ?? "") ?? 0) + 1);
    expect(counts.size, `seed ${seed}`).toBe(300);
    expect([...counts].filter(([, c]) => c !== 1), `tasks run more than once (seed ${seed})`).toEqual([]);

    // The attempt that ran is the one recorded as successful, under the same try number.
    const store = await Store.open({ url: env.CAPSTAN_DATABASE_URL ?? join(dir, "home", "capstan.db") });
    try {
      const attempts = await store.attempts.listByRun(runId);
      const succeeded = new Map(attempts.filter((a) => a.state === "success").map((a) => [a.taskId, a.tryNumber]));
      for (const [task, tryText] of entries) expect(succeeded.get(task ?? ""), `task ${task} (seed ${seed})`).toBe(Number(tryText));
    } finally {
      await store.close();
    }
  });
});
