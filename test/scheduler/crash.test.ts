/**
 * Reliability: a 300-task pipeline while `capstan up` is killed with SIGKILL at random moments and
 * restarted — on SQLite and on PostgreSQL. Each task writes a start line when it begins and an end line
 * when it finishes, so the ledger counts launches, not only completions: the run must end in success
 * with exactly one end per task, no try started twice, every start matching an attempt in the store,
 * and every extra start explained by a `lost` attempt relaunched under a new try (lost attempts are
 * bounded by what can be in flight at the kills). Some kills come while a slow task runs, which the
 * next scheduler must adopt rather than launch again; at least one task must outlive a restart.
 */
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

const MAX_ACTIVE_TASKS = 2;
/**
 * Every 25th task sleeps this long, so that it outlives a restart of the scheduler and is adopted
 * running — while kills are still to come: once the last kill's scheduler is up, the test writes the
 * release file and slow tasks end at once (their sleep is no longer needed, and 300 tasks on two slots
 * would otherwise wait on the slow ones' full sleeps).
 */
const SLOW_SECONDS = 10;
const isSlow = (task: string) => Number(task.slice(1)) % 25 === 12;

/** 300 tasks in layers of mixed widths; each depends on 1–3 tasks of earlier layers. */
function crashPipeline(ledger: string, release: string, seed: number): string {
  const rand = random(seed);
  const widths = [1, 5, 40, 12, 3, 60, 25, 8, 1, 30, 50, 15, 20, 10, 20];
  const lines = ["id: crash", `max_active_tasks: ${MAX_ACTIVE_TASKS}`, "defaults: { retries: 3, retry_delay: 1s }", "tasks:"];
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
      const quick = (Math.floor(rand() * 200) / 1000).toFixed(3);
      const sleep = isSlow(id) ? `i=0; while [ ! -e "${release}" ] && [ $i -lt ${SLOW_SECONDS * 10} ]; do sleep 0.1; i=$((i+1)); done` : `sleep ${quick}`;
      const command = `echo "start $CAPSTAN_TASK_ID $CAPSTAN_TRY" >> "${ledger}"; ${sleep}; echo "end $CAPSTAN_TASK_ID $CAPSTAN_TRY" >> "${ledger}"`;
      lines.push(`  ${id}: { command: '${command}'${deps.size > 0 ? `, depends_on: [${[...deps].join(", ")}]` : ""} }`);
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

// The two backends run side by side: each run mostly waits on its tasks' sleeps, and each has its own
// folder, home, database and `capstan up`.
describe.concurrent.each(backends)("kill -9 of the scheduler during a 300-task run on $name", ({ env: backendEnv }) => {
  it("ends in success with each task launched once per try and run to its end exactly once", { timeout: 600_000 }, async ({ expect }) => {
    const dir = tempDir("capstan-crash-");
    const pipelines = join(dir, "pipelines");
    mkdirSync(pipelines);
    const ledger = join(dir, "ledger.txt");
    writeFileSync(ledger, "");
    chmodSync(ledger, 0o666); // tasks append to it, as nobody when the tests run as root
    const seed = Number(process.env.CAPSTAN_CRASH_SEED ?? Date.now() % 100_000);
    const release = join(dir, "release");
    writeFileSync(join(pipelines, "crash.yaml"), crashPipeline(ledger, release, seed));
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

    // Kills alternate between two kinds of moment: after the ledger has grown by a random 4–60 lines
    // (anywhere in a task's life, however fast this machine runs them), and just after a slow task has
    // started (it is still running when the next scheduler starts, which must adopt it). The ledger
    // gets a line at each kill and restart, so the checks below can tell which tasks outlived one.
    const rand = random(seed + 1);
    const ledgerText = () => readFileSync(ledger, "utf8");
    const ledgerLines = () => ledgerText().split("\n").length - 1;
    const killedSlow = new Set<string>();
    /** A slow task that started, has not ended and has not had a kill yet. */
    const runningSlow = () => {
      const open = new Set<string>();
      for (const line of ledgerText().split("\n")) {
        const [mark, task, tryText] = line.split(" ");
        if (!task || !isSlow(task)) continue;
        if (mark === "start") open.add(`${task} ${tryText}`);
        if (mark === "end") open.delete(`${task} ${tryText}`);
      }
      return [...open].find((key) => !killedSlow.has(key));
    };
    let kills = 0;
    while (kills < 6) {
      const target = ledgerLines() + 4 + Math.floor(rand() * 57);
      const slowKill = kills % 2 === 1;
      // A ledger that stops growing for a minute means the run is over (or stuck): the checks below say which.
      let lines = ledgerLines();
      let grewAt = Date.now();
      let slow: string | undefined;
      const due = () => (slowKill ? (slow = runningSlow()) !== undefined : lines >= target);
      while (!due() && Date.now() - grewAt < 60_000) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        const now = ledgerLines();
        if (now !== lines) [lines, grewAt] = [now, Date.now()];
      }
      if (!due()) break;
      if (slow) killedSlow.add(slow);
      up.child.kill("SIGKILL");
      await new Promise((resolve) => up.child.once("exit", resolve));
      kills++;
      appendFileSync(ledger, `kill ${kills}\n`);
      up = await start();
      appendFileSync(ledger, `up ${kills}\n`);
    }
    // No kill is to come: slow tasks need not outlive one any more.
    writeFileSync(release, "");

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

    const entries = readFileSync(ledger, "utf8").trim().split("\n").map((line) => {
      const [mark, task, tryText] = line.split(" ");
      expect(["start", "end", "kill", "up"], `ledger line ${JSON.stringify(line)}`).toContain(mark);
      return { mark, task: task ?? "", tryNumber: Number(tryText) };
    });
    // Tries that started before a kill and ended after the next scheduler was up: adopted while running.
    const outlived: string[] = [];
    entries.forEach((entry, index) => {
      if (entry.mark !== "kill") return;
      const upAt = entries.findIndex((e, i) => i > index && e.mark === "up" && e.task === entry.task);
      const before = entries.slice(0, index).filter((e) => e.mark === "start").map((e) => `${e.task} ${e.tryNumber}`);
      const endedBefore = new Set(entries.slice(0, index).filter((e) => e.mark === "end").map((e) => `${e.task} ${e.tryNumber}`));
      const endedAfterUp = new Set(entries.slice(upAt).filter((e) => e.mark === "end").map((e) => `${e.task} ${e.tryNumber}`));
      for (const key of before) if (!endedBefore.has(key) && upAt > 0 && endedAfterUp.has(key)) outlived.push(key);
    });
    const count = (mark: string) => {
      const counts = new Map<string, number>();
      for (const e of entries) if (e.mark === mark) counts.set(`${e.task} ${e.tryNumber}`, (counts.get(`${e.task} ${e.tryNumber}`) ?? 0) + 1);
      return counts;
    };
    const starts = count("start");
    const ends = count("end");
    expect([...starts].filter(([, c]) => c !== 1), `tries started more than once (seed ${seed})`).toEqual([]);
    const endsByTask = new Map<string, number>();
    for (const key of ends.keys()) endsByTask.set(key.split(" ")[0] ?? "", (endsByTask.get(key.split(" ")[0] ?? "") ?? 0) + (ends.get(key) ?? 0));
    expect([...endsByTask].filter(([, c]) => c !== 1), `tasks run to the end more than once (seed ${seed})`).toEqual([]);
    expect(view?.state, `seed ${seed}`).toBe("success");
    expect(endsByTask.size, `tasks that ended (seed ${seed})`).toBe(300);
    for (const key of ends.keys()) expect(starts.has(key), `${key} ended without starting (seed ${seed})`).toBe(true);

    const store = await Store.open({ url: env.CAPSTAN_DATABASE_URL ?? join(dir, "home", "capstan.db") });
    try {
      const attempts = await store.attempts.listByRun(runId);
      const byKey = new Map(attempts.map((a) => [`${a.taskId} ${a.tryNumber}`, a]));
      // Every launch is an attempt of the store, and the try that ran to its end is the successful one.
      for (const key of starts.keys()) expect(byKey.get(key)?.state, `attempt ${key} started (seed ${seed})`).toBeDefined();
      for (const key of ends.keys()) expect(byKey.get(key)?.state, `attempt ${key} ran to its end (seed ${seed})`).toBe("success");
      expect(attempts.filter((a) => a.state === "success")).toHaveLength(300);
      // A task started again only after its earlier try was lost, under a new try number.
      const lost = attempts.filter((a) => a.state === "lost");
      for (const key of starts.keys()) {
        const attempt = byKey.get(key);
        if (attempt && attempt.state !== "success") expect(attempt.state, `attempt ${key} started but did not succeed (seed ${seed})`).toBe("lost");
      }
      expect(attempts.filter((a) => a.state !== "success" && a.state !== "lost"), `attempts neither successful nor lost (seed ${seed})`).toEqual([]);
      for (const a of lost) {
        const later = attempts.find((b) => b.taskId === a.taskId && b.state === "success");
        expect(later?.tryNumber, `task ${a.taskId}: the try after lost try ${a.tryNumber} (seed ${seed})`).toBeGreaterThan(a.tryNumber);
      }
      // Only what was in flight when the scheduler was killed can be lost.
      expect(lost.length, `lost attempts ${lost.map((a) => `${a.taskId} ${a.tryNumber}`).join(", ")} after ${kills} kills (seed ${seed})`).toBeLessThanOrEqual(kills * MAX_ACTIVE_TASKS);
    } finally {
      await store.close();
    }
    expect(kills, `the ledger stopped growing before the sixth kill (seed ${seed})`).toBe(6);
    expect(outlived.length, `no task outlived a restart, so adoption of a running attempt went untested (seed ${seed})`).toBeGreaterThan(0);
  });
});
