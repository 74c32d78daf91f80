/**
 * The `capstan` command as scripts use it: the --json contract and exit codes of run --wait and
 * runs show, validate's exit code, errors that say what and where, and in-process runs without a
 * daemon.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startUp } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";

function project(pipelines: Record<string, string>): { dir: string; env: Record<string, string> } {
  const dir = tempDir("capstan-cli-");
  mkdirSync(join(dir, "pipelines"));
  for (const [name, text] of Object.entries(pipelines)) writeFileSync(join(dir, "pipelines", name), text);
  return { dir, env: { CAPSTAN_HOME: join(dir, "home") } };
}

interface RunJson {
  id: string;
  state: string;
  tasks: Record<string, { state: string; tries: number }>;
}

describe("capstan run --wait --json", () => {
  it("exits 0 with the run object when the run succeeds, and runs show prints the same object", async () => {
    const { dir, env } = project({ "ok.yaml": `id: ok\nparams: { n: { type: integer, default: 1 } }\ntasks:\n  a: { command: "true" }\n  b: { command: "test {{ params.n }} = 3", depends_on: [a] }\n` });
    const run = await runCli(["--json", "run", "ok", "--wait", "-p", "n=3"], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as RunJson;
    expect(view).toMatchObject({ state: "success", tasks: { a: { state: "success", tries: 1 }, b: { state: "success", tries: 1 } } });
    const show = await runCli(["--json", "runs", "show", view.id], { cwd: dir, env });
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual(view);
  });

  it("exits 1 when the run fails, with each task's state and tries", async () => {
    const { dir, env } = project({ "bad.yaml": `id: bad\ntasks:\n  a: { command: "exit 4", retries: 1, retry_delay: 0s }\n  b: { command: "true", depends_on: [a] }\n` });
    const run = await runCli(["--json", "run", "bad", "--wait"], { cwd: dir, env });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: "failed", tasks: { a: { state: "failed", tries: 2 }, b: { state: "upstream_failed", tries: 0 } } });
    const logs = await runCli(["logs", (JSON.parse(run.stdout) as RunJson).id, "a"], { cwd: dir, env });
    expect(logs.code).toBe(0);
  });

  it("refuses a param of the wrong type before creating a run, naming it", async () => {
    const { dir, env } = project({ "p.yaml": `id: p\nparams: { n: { type: integer, default: 1 } }\ntasks:\n  a: { command: "true" }\n` });
    const run = await runCli(["run", "p", "-p", "n=many"], { cwd: dir, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('param n: "many" is not an integer');
    const list = await runCli(["--json", "runs", "list"], { cwd: dir, env });
    expect((JSON.parse(list.stdout) as { total: number }).total).toBe(0);
  });
});

describe("capstan pipelines validate", () => {
  it("exits 1 and prints file:line:col for an invalid file, 0 when all are valid", async () => {
    const { dir, env } = project({ "good.yaml": `id: good\ntasks:\n  a: { command: "true" }\n`, "broken.yaml": `id: broken\ntasks:\n  a: { command: "true", depends_on: [ghost] }\n` });
    const bad = await runCli(["pipelines", "validate"], { cwd: dir, env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/broken\.yaml:3:\d+: tasks\.a\.depends_on\[0\]: unknown upstream task "ghost"/);
    expect(bad.stdout).toMatch(/ok\s+.*good\.yaml \(good, 1 tasks\)/);
    const good = await runCli(["pipelines", "validate", join(dir, "pipelines", "good.yaml")], { cwd: dir, env });
    expect(good.code).toBe(0);
  });
});

describe("errors", () => {
  it("names an unknown pipeline and the ones there are", async () => {
    const { dir, env } = project({ "p.yaml": `id: p\ntasks:\n  a: { command: "true" }\n` });
    const run = await runCli(["run", "nope"], { cwd: dir, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no pipeline "nope" in .*; known: p/);
  });

  it("names an unknown run", async () => {
    const { dir, env } = project({});
    const show = await runCli(["runs", "show", "r-1"], { cwd: dir, env });
    expect(show.code).toBe(2);
    expect(show.stderr).toContain('no run "r-1"');
  });

  it("explains a bad capstan.yaml with its position", async () => {
    const { dir, env } = project({});
    writeFileSync(join(dir, "capstan.yaml"), "pools:\n  gpu: { slots: -1 }\nhomme: x\n");
    const list = await runCli(["pipelines", "list"], { cwd: dir, env });
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(/capstan\.yaml:3:1: \(top\): unknown setting homme/);
  });
});

describe("capstan users reset-password", () => {
  it("gives the admin a new password that signs in, and the old one no longer does", { timeout: 120_000 }, async () => {
    const { dir, env } = project({});
    const up = await startUp([], { cwd: dir, env });
    try {
      for (let i = 0; i < 100 && !/password: \S+/.test(up.stderr()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const first = /password: (\S+)/.exec(up.stderr())?.[1];
      expect(first).toBeDefined();
      const reset = await runCli(["--json", "users", "reset-password"], { cwd: dir, env });
      expect(reset.code, reset.stderr).toBe(0);
      const { username, password } = JSON.parse(reset.stdout) as { username: string; password: string };
      expect(username).toBe("admin");
      const exchange = (pw: string) =>
        fetch(`${up.url}/api/auth/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: pw, name: "test" }) });
      expect((await exchange(password)).status).toBe(201);
      expect((await exchange(first ?? "")).status).toBe(401);
    } finally {
      up.child.kill("SIGTERM");
      await new Promise((resolve) => up.child.once("exit", resolve));
    }
  });
});
