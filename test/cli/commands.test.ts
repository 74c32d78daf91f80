/**
 * The commands beside `run` and `runs show`: `secrets`, `pools`, `backfill`, `clear`, `cancel`, `mark`,
 * `pipelines show` and `logs -f`, each checked by what it prints and by the state it leaves — in this
 * process when no scheduler runs against the home, and through a running `capstan up`. Each case
 * has its own folder and home (the cases through `capstan up` share one, and touch different
 * pipelines, pools and secrets), so the cases run side by side: most of their time is `capstan`
 * processes starting. Side by side on a busy machine a case takes longer, hence two minutes each.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAPSTAN_BIN } from "../support/build.js";
import { runCli, startUp, type CliResult, type UpProcess } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";

interface Project {
  dir: string;
  env: Record<string, string>;
  cli(args: readonly string[], input?: string): Promise<CliResult>;
  /** `capstan --json ARGS`, exit code 0 required, stdout parsed. */
  json<T>(args: readonly string[]): Promise<T>;
}

/** A folder with pipeline files (given the folder, for tasks that write files there) and a home. */
function project(pipelines: Record<string, string> | ((dir: string) => Record<string, string>)): Project {
  const dir = tempDir("capstan-cli-");
  mkdirSync(join(dir, "pipelines"));
  for (const [name, text] of Object.entries(typeof pipelines === "function" ? pipelines(dir) : pipelines)) writeFileSync(join(dir, "pipelines", name), text);
  const env: Record<string, string> = { CAPSTAN_HOME: join(dir, "home") };
  const cli = (args: readonly string[], input?: string) => runCli(args, { cwd: dir, env, ...(input !== undefined ? { input } : {}) });
  return {
    dir,
    env,
    cli,
    async json<T>(args: readonly string[]): Promise<T> {
      const result = await cli(["--json", ...args]);
      expect(result.code, `capstan ${args.join(" ")}: ${result.stderr}`).toBe(0);
      return JSON.parse(result.stdout) as T;
    },
  };
}

interface RunJson {
  id: string;
  state: string;
  trigger: string;
  logical_date: string;
  tasks: Record<string, { state: string; tries: number }>;
}

interface PoolJson {
  name: string;
  slots: number;
  description: string | null;
  used: number;
}

const SECRET_VALUE = "s3cret-Value-0f-the-db";

describe.concurrent("capstan secrets (in process)", { timeout: 120_000 }, () => {
  it("sets, lists keys but never values, hands values to tasks, masks them in logs and deletes", { timeout: 120_000 }, async () => {
    const p = project({
      "uses.yaml": `id: uses\nteam: ml\ntasks:\n  a: { command: 'test "$DB_PASSWORD" = "${SECRET_VALUE}" && test "$DB_TOKEN" = "from a file" && echo "password is $DB_PASSWORD"', secrets: { DB_PASSWORD: db/PASSWORD, DB_TOKEN: db/TOKEN } }\n`,
    });
    writeFileSync(join(p.dir, "token.txt"), "from a file\n");
    const set = await p.cli(["secrets", "set", "db", `PASSWORD=${SECRET_VALUE}`, `TOKEN=@${join(p.dir, "token.txt")}`, "--team", "ml"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(SECRET_VALUE);

    const listed = await p.json<{ secrets: { team: string; name: string; keys: string[]; updated_at: string }[] }>(["secrets", "list"]);
    expect(listed.secrets.map(({ updated_at, ...rest }) => ({ ...rest, updated: /^\d{4}-\d\d-\d\dT/.test(updated_at) }))).toEqual([{ team: "ml", name: "db", keys: ["PASSWORD", "TOKEN"], updated: true }]);
    expect(JSON.stringify(listed)).not.toContain(SECRET_VALUE);
    expect((await p.json<{ secrets: unknown[] }>(["secrets", "list", "--team", "other"])).secrets).toEqual([]);
    const table = await p.cli(["secrets", "list"]);
    expect(table.stdout).toMatch(/ml\s+db\s+PASSWORD, TOKEN/);
    expect(table.stdout).not.toContain(SECRET_VALUE);

    // The task receives the values (its command checks them) and its log shows them masked.
    const run = await p.cli(["--json", "run", "uses", "--wait"]);
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as RunJson;
    expect(view.tasks.a).toMatchObject({ state: "success", tries: 1 });
    const logs = await p.cli(["logs", view.id, "a"]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain("password is ***");
    expect(logs.stdout).not.toContain(SECRET_VALUE);

    const deleted = await p.cli(["secrets", "delete", "db", "--team", "ml"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await p.json<{ secrets: unknown[] }>(["secrets", "list"])).secrets).toEqual([]);
    const again = await p.cli(["secrets", "delete", "db", "--team", "ml"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('team ml has no secret "db"');
  });

  it("refuses a pair without '=', a bad name and a bad key, naming them, and stores nothing", async () => {
    const p = project({});
    const noValue = await p.cli(["secrets", "set", "db", "PASSWORD"]);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain('"PASSWORD": write KEY=VALUE or KEY=@FILE');
    const badName = await p.cli(["secrets", "set", "no/slash", "A=b"]);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('secret name "no/slash": letters, digits');
    const badKey = await p.cli(["secrets", "set", "db", "A B=c"]);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('key "A B" may contain letters, digits');
    expect((await p.json<{ secrets: unknown[] }>(["secrets", "list"])).secrets).toEqual([]);
  });

  it("names CAPSTAN_SECRET_KEY when it is malformed, without a stack trace", async () => {
    const p = project({});
    const result = await runCli(["secrets", "set", "db", "A=bcde"], { cwd: p.dir, env: { ...p.env, CAPSTAN_SECRET_KEY: "too-short" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: CAPSTAN_SECRET_KEY must be 32 bytes in base64");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe.concurrent("capstan pools (in process)", { timeout: 120_000 }, () => {
  it("creates, changes, lists and deletes pools; the default pool stays", async () => {
    const p = project({});
    expect((await p.cli(["pools", "set", "gpu", "2", "--description", "the two A100s"])).code).toBe(0);
    let pools = (await p.json<{ pools: PoolJson[] }>(["pools", "list"])).pools;
    expect(pools.find((x) => x.name === "gpu")).toEqual({ name: "gpu", slots: 2, description: "the two A100s", used: 0 });
    expect(pools.map((x) => x.name)).toContain("default");
    expect((await p.cli(["pools", "set", "gpu", "4"])).code).toBe(0);
    pools = (await p.json<{ pools: PoolJson[] }>(["pools", "list"])).pools;
    expect(pools.find((x) => x.name === "gpu")?.slots).toBe(4);
    const table = await p.cli(["pools", "list"]);
    expect(table.stdout).toMatch(/gpu\s+4\s+0/);

    expect((await p.cli(["pools", "delete", "gpu"])).code).toBe(0);
    pools = (await p.json<{ pools: PoolJson[] }>(["pools", "list"])).pools;
    expect(pools.map((x) => x.name)).not.toContain("gpu");
    const missing = await p.cli(["pools", "delete", "gpu"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no pool "gpu"');
    const builtIn = await p.cli(["pools", "delete", "default"]);
    expect(builtIn.code).toBe(2);
    expect(builtIn.stderr).toContain("the default pool cannot be deleted");
  });

  it("refuses slots that are not a whole number ≥ 0 and bad names, naming them", async () => {
    const p = project({});
    for (const slots of ["-1", "1.5", "many"]) {
      const result = await p.cli(["pools", "set", "gpu", slots]);
      expect(result.code, slots).toBe(2);
      expect(result.stderr).toContain(`slots ${JSON.stringify(slots)}: expected a whole number ≥ 0`);
    }
    const badName = await p.cli(["pools", "set", "-bad", "1"]);
    expect(badName.code).not.toBe(0);
    const slash = await p.cli(["pools", "set", "a/b", "1"]);
    expect(slash.code).toBe(2);
    expect(slash.stderr).toContain('pool name "a/b"');
    expect((await p.json<{ pools: PoolJson[] }>(["pools", "list"])).pools.map((x) => x.name)).toEqual(["default"]);
  });
});

describe.concurrent("capstan pipelines show (in process)", { timeout: 120_000 }, () => {
  it("prints the pipeline's settings, params and tasks, and the validated spec with --json", async () => {
    const p = project({
      "shown.yaml": `id: shown
description: nightly features
team: ml
schedule: "@daily"
start_date: 2026-01-01
catchup: false
max_active_tasks: 3
params:
  n: { type: integer, default: 2, description: how many }
  day: { type: string, default: today }
tasks:
  extract: { command: "true", retries: 2, resources: { cpu: 2, memory: 1Gi } }
  train: { command: "true", depends_on: [extract], pool: default }
`,
    });
    const text = await p.cli(["pipelines", "show", "shown"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("shown — nightly features");
    expect(text.stdout).toContain(`file: ${join(p.dir, "pipelines", "shown.yaml")}`);
    expect(text.stdout).toContain("team: ml");
    expect(text.stdout).toMatch(/schedule: @daily \(UTC\), catchup off/);
    expect(text.stdout).toContain("max active tasks: 3");
    expect(text.stdout).toContain("  n: integer = 2 — how many");
    expect(text.stdout).toContain('  day: string = "today"');
    expect(text.stdout).toMatch(/extract\s+command\s+-\s+all_success\s+2\s+cpu 2, mem 1Gi\s+default/);
    expect(text.stdout).toMatch(/train\s+command\s+extract\s+all_success\s+0\s+-\s+default/);

    const detail = await p.json<{ id: string; spec: { id: string; team: string; taskOrder: string[]; tasks: Record<string, { dependsOn: string[]; retries: number }> }; source: string }>(["pipelines", "show", "shown"]);
    expect(detail.id).toBe("shown");
    expect(detail.spec.taskOrder).toEqual(["extract", "train"]);
    expect(detail.spec.tasks.train?.dependsOn).toEqual(["extract"]);
    expect(detail.spec.tasks.extract?.retries).toBe(2);
    expect(detail.source).toContain("nightly features");

    const unknown = await p.cli(["pipelines", "show", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no pipeline "nope" in .*; known: shown/);
  });
});

describe.concurrent("capstan backfill (in process)", { timeout: 120_000 }, () => {
  it("creates one run per day in [--from, --to], runs them with --wait, and leaves existing ones alone", { timeout: 120_000 }, async () => {
    const p = project({
      "daily.yaml": `id: daily\nschedule: "@daily"\nstart_date: 2026-01-01\ncatchup: false\nparams: { tag: { type: string, default: none } }\ntasks:\n  a: { command: 'test "{{ params.tag }}" = bf' }\n`,
    });
    const waited = await p.cli(["--json", "backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-03", "-p", "tag=bf", "--wait"]);
    expect(waited.code, waited.stderr).toBe(0);
    const result = JSON.parse(waited.stdout) as { created: string[]; existing: string[]; runs: RunJson[] };
    expect(result.created).toHaveLength(3);
    expect(result.existing).toEqual([]);
    expect(result.runs.map((r) => [r.state, r.trigger, r.logical_date.slice(0, 10)])).toEqual([
      ["success", "backfill", "2026-01-01"],
      ["success", "backfill", "2026-01-02"],
      ["success", "backfill", "2026-01-03"],
    ]);

    const list = await p.json<{ total: number; runs: RunJson[] }>(["runs", "list", "--pipeline", "daily"]);
    expect(list.total).toBe(3);
    expect(list.runs.every((r) => r.trigger === "backfill" && r.state === "success")).toBe(true);

    // Again over an overlapping range: only the new day gets a run, queued until a scheduler runs it.
    const again = await p.cli(["--json", "backfill", "daily", "--from", "2026-01-02", "--to", "2026-01-04"]);
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as { created: string[]; existing: string[] };
    expect(second.created).toHaveLength(1);
    expect(second.existing).toHaveLength(2);
    const queued = await p.json<RunJson>(["runs", "show", second.created[0] ?? ""]);
    expect(queued.logical_date.slice(0, 10)).toBe("2026-01-04");
    expect(queued.state).toBe("queued");
    expect((await p.json<{ total: number }>(["runs", "list", "--pipeline", "daily"])).total).toBe(4);
  });

  it("refuses a date it cannot read, naming the option, and creates nothing", async () => {
    const p = project({ "daily.yaml": `id: daily\nschedule: "@daily"\nstart_date: 2026-01-01\ntasks:\n  a: { command: "true" }\n` });
    const bad = await p.cli(["backfill", "daily", "--from", "yesterday-ish", "--to", "2026-01-03"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--from");
    expect((await p.json<{ total: number }>(["runs", "list"])).total).toBe(0);
  });
});

describe.concurrent("capstan mark, clear and logs (in process)", { timeout: 120_000 }, () => {
  it("marks a failed task successful, clears it and its downstream, and reruns them", { timeout: 120_000 }, async () => {
    const p = project((dir) => ({
      "flaky.yaml": `id: flaky\ntasks:\n  a: { command: 'echo "a ran"; test -f ${dir}/ok' }\n  b: { command: 'echo "b ran" >> ${dir}/b.txt', depends_on: [a] }\n`,
    }));
    const first = await p.cli(["--json", "run", "flaky", "--wait"]);
    expect(first.code).toBe(1);
    const run = JSON.parse(first.stdout) as RunJson;
    expect(run.tasks).toMatchObject({ a: { state: "failed", tries: 1 }, b: { state: "upstream_failed", tries: 0 } });
    const logs = await p.cli(["logs", "-f", run.id, "a"]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toBe("a ran\n");

    const badState = await p.cli(["mark", run.id, "a", "done"]);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain('state "done": expected success or failed');
    const marked = await p.json<{ state: string }>(["mark", run.id, "a", "success"]);
    expect(marked.state).toBe("success");
    expect((await p.json<RunJson>(["runs", "show", run.id])).tasks.a?.state).toBe("success");

    // Clearing a and what follows it: both run again, and this time a finds its file.
    writeFileSync(join(p.dir, "ok"), "");
    const cleared = await p.json<{ cleared: string[] }>(["clear", run.id, "a", "--downstream"]);
    expect(cleared.cleared.sort()).toEqual(["a", "b"]);
    const pending = await p.json<RunJson>(["runs", "show", run.id]);
    expect(pending.state).not.toBe("failed");
    expect(["none", "scheduled", "queued"]).toContain(pending.tasks.a?.state);
    const unknownTask = await p.cli(["clear", run.id, "ghost"]);
    expect(unknownTask.code).toBe(2);
    expect(unknownTask.stderr).toContain("ghost");

    const up = await startUp(["--pipelines", join(p.dir, "pipelines")], { cwd: p.dir, env: p.env });
    try {
      const done = await waitForRunState(p, run.id, ["success", "failed"]);
      expect(done.state).toBe("success");
      expect(done.tasks).toMatchObject({ a: { state: "success", tries: 2 }, b: { state: "success", tries: 1 } });
      expect(readFileSync(join(p.dir, "b.txt"), "utf8")).toBe("b ran\n");
    } finally {
      await stop(up);
    }
  });
});

async function waitForRunState(p: Project, runId: string, states: string[], timeoutMs = 60_000): Promise<RunJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await p.json<RunJson>(["runs", "show", runId]);
    if (states.includes(view.state) || Date.now() > deadline) return view;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stop(up: UpProcess): Promise<void> {
  if (up.child.exitCode !== null) return;
  const exited = new Promise((resolve) => up.child.once("exit", resolve));
  up.child.kill("SIGTERM");
  await exited;
}

describe.concurrent("through a running capstan up", { timeout: 120_000 }, () => {
  let p: Project;
  let up: UpProcess;

  beforeAll(async () => {
    p = project((dir) => ({
      "slow.yaml": `id: slow\ntasks:\n  a: { command: 'echo $$ > ${dir}/slow.pid; echo started; sleep 60; echo finished > ${dir}/finished.txt' }\n  b: { command: "true", depends_on: [a] }\n`,
      // The first try waits after its first line until the test opens the gate.
      "steps.yaml": `id: steps\ntasks:\n  a: { command: 'echo "try $CAPSTAN_TRY one"; if [ "$CAPSTAN_TRY" = 1 ]; then while [ ! -f ${dir}/gate ]; do sleep 0.05; done; fi; echo "try $CAPSTAN_TRY two"; sleep 1; printf "try $CAPSTAN_TRY three"; test "$CAPSTAN_TRY" = 2', retries: 1, retry_delay: 0s }\n`,
    }));
    up = await startUp(["--pipelines", join(p.dir, "pipelines")], { cwd: p.dir, env: p.env });
  }, 120_000);

  afterAll(async () => {
    await stop(up);
  });

  it("logs -f prints each try's lines as they come and returns when the last try ends", { timeout: 120_000 }, async () => {
    const run = await p.json<RunJson>(["run", "steps"]);
    const child = spawn(process.execPath, [CAPSTAN_BIN, "logs", "-f", run.id, "a"], { cwd: p.dir, env: { ...process.env, ...p.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    // The first line arrives while the try still runs (it waits for the gate): -f prints as the log grows.
    const firstLine = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 60_000);
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes("try 1 one\n")) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    if (!firstLine) {
      child.kill("SIGKILL");
      writeFileSync(join(p.dir, "gate"), "");
      const state = await p.cli(["--json", "runs", "show", run.id]);
      const plain = await p.cli(["logs", run.id, "a"]);
      expect.fail(`logs -f printed ${JSON.stringify(stdout)} (${stderr}) in a minute; the run: ${state.stdout}; capstan logs: ${JSON.stringify(plain.stdout)} ${plain.stderr}`);
    }
    expect(stdout).toBe("try 1 one\n");
    writeFileSync(join(p.dir, "gate"), "");
    expect(await exited, stderr).toBe(0);
    expect(stdout).toBe("try 1 one\ntry 1 two\ntry 1 threetry 2 one\ntry 2 two\ntry 2 three");
    expect(stderr).toContain("--- try 2 ---");
    // The command returned because the attempt ended: the run is over by then.
    expect((await p.json<RunJson>(["runs", "show", run.id])).tasks.a).toEqual(expect.objectContaining({ state: "success", tries: 2 }));
    const first = await p.cli(["logs", "--try", "1", run.id, "a"]);
    expect(first.stdout).toBe("try 1 one\ntry 1 two\ntry 1 three");
    const badTry = await p.cli(["logs", "--try", "0", run.id, "a"]);
    expect(badTry.code).toBe(2);
    expect(badTry.stderr).toContain("--try 0: expected a whole number ≥ 1");
  });

  it("cancel kills the running attempt and cancels what has not run", { timeout: 120_000 }, async () => {
    const run = await p.json<RunJson>(["run", "slow"]);
    // The task's first line says its command runs.
    expect(await waitForLog(p, run.id, "a", "started\n")).toBe("started\n");
    const pid = Number(readFileSync(join(p.dir, "slow.pid"), "utf8"));
    expect(processAlive(pid)).toBe(true);
    const cancelled = await p.json<RunJson>(["cancel", run.id]);
    expect(cancelled.state).toBe("cancelled");
    expect(cancelled.tasks.b?.state).toBe("cancelled");
    // logs -f returns once the attempt has ended; the command's process is gone by then or soon after.
    const follow = await p.cli(["logs", "-f", run.id, "a"]);
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toBe("started\n");
    const view = await p.json<RunJson>(["runs", "show", run.id]);
    expect(view).toMatchObject({ state: "cancelled", tasks: { a: { state: "cancelled" }, b: { state: "cancelled" } } });
    expect(await waitUntil(() => !processAlive(pid)), `task process ${pid} still runs after cancel`).toBe(true);
    expect(existsSync(join(p.dir, "finished.txt"))).toBe(false);
  });

  it("pools and secrets set through the server are what the home holds", async () => {
    expect((await p.cli(["pools", "set", "shared", "3"])).code).toBe(0);
    expect((await p.json<{ pools: PoolJson[] }>(["pools", "list"])).pools.find((x) => x.name === "shared")).toEqual({ name: "shared", slots: 3, description: null, used: 0 });
    expect((await p.cli(["secrets", "set", "api", `KEY=${SECRET_VALUE}`])).code).toBe(0);
    const listed = await p.cli(["--json", "secrets", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ secrets: [{ team: "default", name: "api", keys: ["KEY"] }] });
    expect(listed.stdout).not.toContain(SECRET_VALUE);
    expect((await p.cli(["secrets", "delete", "api"])).code).toBe(0);
    expect((await p.cli(["pools", "delete", "shared"])).code).toBe(0);
    expect((await p.json<{ pools: PoolJson[] }>(["pools", "list"])).pools.map((x) => x.name)).toEqual(["default"]);
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Polls `capstan logs` until the task's log starts with `prefix`. */
async function waitForLog(p: Project, runId: string, taskId: string, prefix: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = await p.cli(["logs", runId, taskId]);
    if (logs.stdout.startsWith(prefix) || Date.now() > deadline) return logs.stdout;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
