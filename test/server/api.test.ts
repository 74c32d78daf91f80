/**
 * The HTTP API against a real server and scheduler: pipelines with broken files, triggering with
 * typed params, run lists and the grid, task details and logs, live streams, clear / mark /
 * cancel, pools, accounts, output notebooks in a sandbox, and the web UI's files.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { openServer, waitForRunState, type ServerHarness, type ServerHarnessOptions } from "./support/server-harness.js";
import { openSse } from "./support/sse-client.js";

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function open(options: ServerHarnessOptions): Promise<ServerHarness> {
  h = await openServer(options);
  return h;
}

interface RunBody {
  id: string;
  state: string;
  params: Record<string, unknown>;
  tasks: Record<string, { state: string; tries: number; reason: string | null }>;
}

const FAN = `id: fan
team: data
description: a small fan-out
params:
  words: { type: integer, default: 2, minimum: 1, description: words per part }
  label: { type: string, default: x }
tasks:
  start: { command: "echo start {{ params.label }}" }
  left: { command: "echo left {{ params.words }}", depends_on: [start] }
  right: { command: "echo right", depends_on: [start] }
  join: { command: "echo joined", depends_on: [left, right] }
`;

describe("pipelines", () => {
  it("lists pipelines with their recent runs and the files that failed to load, with issue positions", async () => {
    const s = await open({ pipelines: { "fan.yaml": FAN, "broken.yaml": "id: broken\ntasks:\n  a: { command: 1 }\n  b: { depends_on: [nope] }\n" } });
    const run = await s.call<RunBody>("POST", "/api/pipelines/fan/runs", { token: s.admin.token, body: {} });
    await s.waitForRun(run.body.id);
    const list = await s.call<{ pipelines: { id: string; team: string; tasks: number; last_runs: { id: string; state: string }[] }[]; errors: { file: string; message: string; issues: unknown[] }[] }>("GET", "/api/pipelines", { token: s.admin.token });
    expect(list.status).toBe(200);
    expect(list.body.pipelines).toEqual([expect.objectContaining({ id: "fan", team: "data", tasks: 4, last_runs: [expect.objectContaining({ id: run.body.id, state: "success" })] })]);
    expect(list.body.errors).toHaveLength(1);
    expect(list.body.errors[0]?.file).toMatch(/broken\.yaml$/);
    expect(list.body.errors[0]?.message).toMatch(/broken\.yaml:\d+/);
    const detail = await s.call<{ spec: { params: Record<string, { type: string; default: unknown }>; taskOrder: string[] }; source: string; can_edit: boolean }>("GET", "/api/pipelines/fan", { token: s.admin.token });
    expect(detail.body.spec.params.words).toEqual({ type: "integer", default: 2, minimum: 1, description: "words per part" });
    expect(detail.body.spec.taskOrder[0]).toBe("start");
    expect(detail.body.source).toContain("a small fan-out");
    expect(detail.body.can_edit).toBe(true);
    const versions = await s.call<{ versions: { version: string }[] }>("GET", "/api/pipelines/fan/versions", { token: s.admin.token });
    expect(versions.body.versions).toHaveLength(1);
    const version = await s.call<{ source: string }>("GET", `/api/pipelines/fan/versions/${versions.body.versions[0]?.version ?? ""}`, { token: s.admin.token });
    expect(version.body.source).toBe(detail.body.source);
    const paused = await s.call("PUT", "/api/pipelines/fan/paused", { token: s.admin.token, body: { paused: true } });
    expect(paused.status).toBe(200);
    expect((await s.call<{ paused: boolean }>("GET", "/api/pipelines/fan", { token: s.admin.token })).body.paused).toBe(true);
  });
});

describe("runs", () => {
  it("triggers with typed params and answers in the CLI's --json shape, then lists runs and the grid", async () => {
    const s = await open({ pipelines: { "fan.yaml": FAN } });
    const first = await s.call<RunBody>("POST", "/api/pipelines/fan/runs", { token: s.admin.token, body: { params: { words: 5 }, note: "first" } });
    expect(first.status).toBe(201);
    expect(first.body.id).toMatch(/^fan-/);
    expect(first.body).toMatchObject({ state: "queued", params: { words: 5, label: "x" } });
    expect(Object.keys(first.body.tasks)).toEqual(["start", "left", "right", "join"]);
    await s.waitForRun(first.body.id);
    const second = await s.call<RunBody>("POST", "/api/pipelines/fan/runs", { token: s.admin.token, body: { params: { label: "two" } } });
    await s.waitForRun(second.body.id);

    const view = await s.call<RunBody>("GET", `/api/runs/${first.body.id}`, { token: s.admin.token });
    expect(view.body.state).toBe("success");
    expect(view.body.tasks.left).toMatchObject({ state: "success", tries: 1 });

    const full = await s.call<{ total: number; runs: RunBody[] }>("GET", "/api/runs?pipeline=fan&limit=1", { token: s.admin.token });
    expect(full.body.total).toBe(2);
    expect(full.body.runs).toHaveLength(1);
    expect(Object.keys(full.body.runs[0]?.tasks ?? {})).toEqual(["start", "left", "right", "join"]);
    const summary = await s.call<{ runs: { id: string; task_counts: Record<string, number>; tasks?: unknown }[] }>("GET", "/api/runs?view=summary", { token: s.admin.token });
    expect(summary.body.runs).toHaveLength(2);
    expect(summary.body.runs[0]?.task_counts).toEqual({ success: 4 });
    expect(summary.body.runs[0]?.tasks).toBeUndefined();
    expect((await s.call<{ total: number }>("GET", "/api/runs?state=failed", { token: s.admin.token })).body.total).toBe(0);
    expect((await s.call<{ total: number; runs: unknown[] }>("GET", "/api/runs?offset=10", { token: s.admin.token })).body).toEqual({ total: 2, runs: [] });

    const grid = await s.call<{ total: number; tasks: { id: string; depends_on: string[] }[]; runs: { id: string; states: string[]; tries: number[] }[] }>("GET", "/api/pipelines/fan/grid?limit=10", { token: s.admin.token });
    expect(grid.body.total).toBe(2);
    expect(grid.body.tasks.map((t) => t.id)).toEqual(["start", "left", "right", "join"]);
    expect(grid.body.tasks[3]?.depends_on).toEqual(["left", "right"]);
    expect(grid.body.runs.map((r) => r.id)).toEqual([second.body.id, first.body.id]);
    expect(grid.body.runs[0]?.states).toEqual(["success", "success", "success", "success"]);
    expect(grid.body.runs[0]?.tries).toEqual([1, 1, 1, 1]);
  });

  it("shows a failing task's attempts, reason and log, clears it with downstream and sees it run again", async () => {
    const dir = tempDir();
    const flag = join(dir, "fixed");
    const s = await open({
      pipelines: {
        "flaky.yaml": `id: flaky
tasks:
  prepare: { command: "echo preparing" }
  work: { command: 'echo "working on it"; [ -f ${flag} ] || { echo "the input is not ready" >&2; exit 3; }', depends_on: [prepare] }
  report: { command: "echo reported", depends_on: [work] }
`,
      },
    });
    const t = s.admin.token;
    const run = await s.call<RunBody>("POST", "/api/pipelines/flaky/runs", { token: t, body: {} });
    const failed = await s.waitForRun(run.body.id);
    expect(failed.state).toBe("failed");
    const task = await s.call<{ state: string; tries: number; reason: string; attempts: { try: number; exit_code: number; state: string }[]; depends_on: string[]; kind: string }>("GET", `/api/runs/${run.body.id}/tasks/work`, { token: t });
    expect(task.body).toMatchObject({ state: "failed", tries: 1, kind: "command", depends_on: ["prepare"] });
    expect(task.body.reason).toMatch(/3/);
    expect(task.body.attempts).toEqual([expect.objectContaining({ try: 1, exit_code: 3, state: "failed" })]);
    const log = await s.call<{ text: string; next: number; done: boolean }>("GET", `/api/runs/${run.body.id}/tasks/work/logs`, { token: t });
    expect(log.body.text).toContain("working on it");
    expect(log.body.text).toContain("the input is not ready");
    expect(log.body.done).toBe(true);
    const rest = await s.call<{ text: string }>("GET", `/api/runs/${run.body.id}/tasks/work/logs?offset=${log.body.next}`, { token: t });
    expect(rest.body.text).toBe("");
    expect((await s.call<RunBody>("GET", `/api/runs/${run.body.id}`, { token: t })).body.tasks.report?.state).toBe("upstream_failed");

    writeFileSync(flag, "");
    const cleared = await s.call<{ cleared: string[] }>("POST", `/api/runs/${run.body.id}/tasks/work/clear`, { token: t, body: { downstream: true } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.cleared.sort()).toEqual(["report", "work"]);
    const again = await s.waitForRun(run.body.id);
    expect(again.state).toBe("success");
    const after = await s.call<{ tries: number; attempts: unknown[] }>("GET", `/api/runs/${run.body.id}/tasks/work`, { token: t });
    expect(after.body.tries).toBe(2);
    expect(after.body.attempts).toHaveLength(2);
    const firstTry = await s.call<{ text: string }>("GET", `/api/runs/${run.body.id}/tasks/work/logs?try=1`, { token: t });
    expect(firstTry.body.text).toContain("not ready");

    const marked = await s.call<{ state: string }>("POST", `/api/runs/${run.body.id}/tasks/report/mark`, { token: t, body: { state: "failed" } });
    expect(marked.body.state).toBe("failed");
    expect((await s.call<RunBody>("GET", `/api/runs/${run.body.id}`, { token: t })).body.state).toBe("failed");
  });

  it("streams state changes and follows a running task's log live, then cancels the run", async () => {
    const dir = tempDir();
    const go = join(dir, "go");
    const s = await open({
      pipelines: {
        "slow.yaml": `id: slow
tasks:
  wait: { command: 'echo first line; while [ ! -f ${go} ]; do sleep 0.05; done; echo second line' }
  hold: { command: 'while true; do sleep 0.2; done', depends_on: [wait] }
`,
      },
    });
    const t = s.admin.token;
    const events = await openSse(`${s.url}/api/events?pipeline=slow`, { authorization: `Bearer ${t}` });
    await events.until((all) => all.some((e) => e.event === "ready"));
    const run = await s.call<RunBody>("POST", "/api/pipelines/slow/runs", { token: t, body: {} });
    await s.waitForTask(run.body.id, "wait", ["running"]);

    const log = await openSse(`${s.url}/api/runs/${run.body.id}/tasks/wait/logs/stream`, { authorization: `Bearer ${t}` });
    expect(log.status).toBe(200);
    const text = (all: { event: string; data: unknown }[]) => all.filter((e) => e.event === "log").map((e) => (e.data as { text: string }).text).join("");
    await log.until((all) => text(all).includes("first line"));
    writeFileSync(go, "");
    const followed = await log.until((all) => all.some((e) => e.event === "end"));
    expect(text(followed)).toBe("first line\nsecond line\n");
    await log.ended;

    await s.waitForTask(run.body.id, "hold", ["running"]);
    const cancelled = await s.call<RunBody>("POST", `/api/runs/${run.body.id}/cancel`, { token: t, body: {} });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe("cancelled");
    await waitForRunState(s, run.body.id, (tasks) => tasks.hold === "cancelled");
    const seen = await events.until((all) => all.some((e) => e.event === "change" && (e.data as { kind: string; state: string }).kind === "run" && (e.data as { state: string }).state === "cancelled"));
    events.close();
    const changes = seen.filter((e) => e.event === "change").map((e) => e.data as { kind: string; task?: string; state: string });
    expect(changes).toContainEqual(expect.objectContaining({ kind: "task", task: "wait", state: "running" }));
    expect(changes).toContainEqual(expect.objectContaining({ kind: "task", task: "wait", state: "success" }));
    expect((await s.call("POST", `/api/runs/${run.body.id}/cancel`, { token: t, body: {} })).status).toBe(409);
  });
});

describe("shutting down", () => {
  it("ends open live streams so the server can close", async () => {
    const s = await open({ pipelines: { "fan.yaml": FAN } });
    const stream = await openSse(`${s.url}/api/events`, { authorization: `Bearer ${s.admin.token}` });
    await stream.until((all) => all.some((e) => e.event === "ready"));
    h = undefined;
    await s.close();
    await stream.ended;
  });
});

describe("output notebooks", () => {
  it("renders a notebook task's output in a CSP sandbox and refuses paths outside the attempt folder", async () => {
    const dir = tempDir();
    const notebook = {
      cells: [
        { cell_type: "markdown", metadata: {}, source: ["# Report\n", "numbers below"] },
        { cell_type: "code", metadata: { tags: ["parameters"] }, execution_count: null, outputs: [], source: ["n = 1"] },
        { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: ["from IPython.display import HTML, display\n", "print('n is', n)\n", "display(HTML('<b id=\"x\">bold</b><script>parent.stolen = 1</script>'))"] },
      ],
      metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    writeFileSync(join(dir, "report.ipynb"), JSON.stringify(notebook));
    const s = await open({
      pipelines: {
        "nb.yaml": `id: nb
tasks:
  report: { notebook: ${join(dir, "report.ipynb")}, parameters: { n: 7 } }
  sneaky: { command: 'printf "{\\"notebook\\": \\"/etc/hostname.ipynb\\"}" > "$CAPSTAN_OUTPUT"' }
`,
      },
    });
    const t = s.admin.token;
    const run = await s.call<RunBody>("POST", "/api/pipelines/nb/runs", { token: t, body: {} });
    const done = await s.waitForRun(run.body.id, 120_000);
    expect(done.state).toBe("success");
    const task = await s.call<{ has_notebook: boolean }>("GET", `/api/runs/${run.body.id}/tasks/report`, { token: t });
    expect(task.body.has_notebook).toBe(true);
    const html = await s.call("GET", `/api/runs/${run.body.id}/tasks/report/notebook/html`, { token: t });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html.headers.get("content-security-policy")).toMatch(/^sandbox;/);
    expect(html.headers.get("content-security-policy")).not.toMatch(/allow-scripts|allow-same-origin/);
    expect(html.text).toContain("<h1>Report</h1>");
    expect(html.text).toContain("n is 7");
    expect(html.text).toContain('<b id="x">bold</b>');
    const raw = await s.call<{ cells: unknown[] }>("GET", `/api/runs/${run.body.id}/tasks/report/notebook`, { token: t });
    expect(raw.headers.get("content-disposition")).toMatch(/^attachment;/);
    expect(raw.text).toContain('"n = 7');
    const sneaky = await s.call<{ error: { code: string } }>("GET", `/api/runs/${run.body.id}/tasks/sneaky/notebook/html`, { token: t });
    expect(sneaky.status).toBe(404);
  });
});

describe("pools and accounts", () => {
  it("lets admins manage pools and users, and team admins manage their team's members", async () => {
    const s = await open({ pipelines: { "fan.yaml": FAN } });
    const t = s.admin.token;
    expect((await s.call("PUT", "/api/pools/gpu", { token: t, body: { slots: 2, description: "the GPU box" } })).status).toBe(200);
    const pools = await s.call<{ pools: { name: string; slots: number; used: number }[] }>("GET", "/api/pools", { token: t });
    expect(pools.body.pools).toContainEqual({ name: "gpu", slots: 2, description: "the GPU box", used: 0 });
    expect((await s.call("DELETE", "/api/pools/default", { token: t })).status).toBe(409);
    expect((await s.call("DELETE", "/api/pools/gpu", { token: t })).status).toBe(204);
    expect((await s.call("DELETE", "/api/pools/gpu", { token: t })).status).toBe(404);

    const created = await s.call<{ user: { username: string }; password: string }>("POST", "/api/users", { token: t, body: { username: "dana", display_name: "Dana" } });
    expect(created.status).toBe(201);
    expect(created.body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await s.call("POST", "/api/users", { token: t, body: { username: "dana" } })).status).toBe(409);
    const { cookie } = await s.login("dana", created.body.password);
    expect((await s.call<{ username: string }>("GET", "/api/auth/me", { headers: { cookie } })).body.username).toBe("dana");
    expect((await s.call("PUT", "/api/teams/data/members/dana", { token: t, body: { role: "admin" } })).status).toBe(200);
    const dana = await s.call<{ token: string }>("POST", "/api/auth/token", { body: { username: "dana", password: created.body.password, name: "cli" } });
    expect(dana.status).toBe(201);
    await s.user("erin", {});
    expect((await s.call("PUT", "/api/teams/data/members/erin", { token: dana.body.token, body: { role: "viewer" } })).status).toBe(200);
    const team = await s.call<{ teams: { name: string; members: { username: string; role: string }[] }[] }>("GET", "/api/teams", { token: dana.body.token });
    expect(team.body.teams[0]?.members).toEqual([
      { username: "dana", role: "admin" },
      { username: "erin", role: "viewer" },
    ]);
    expect((await s.call("POST", "/api/teams", { token: dana.body.token, body: { name: "other" } })).status).toBe(403);
    expect((await s.call("PATCH", "/api/users/root", { token: t, body: { admin: false } })).status).toBe(409);
    const password = await s.call("POST", "/api/auth/password", { token: dana.body.token, body: { current_password: "wrong", new_password: "a-new-long-password" } });
    expect(password.status).toBe(400);
    expect((await s.call("POST", "/api/auth/password", { token: dana.body.token, body: { current_password: created.body.password, new_password: "a-new-long-password" } })).status).toBe(204);
    expect((await s.call("GET", "/api/auth/me", { headers: { cookie } })).status).toBe(401);
  });
});

describe("the web UI's files", () => {
  it("serves the UI at / with a strict CSP, page paths as index.html, and hashed assets cached for good", async () => {
    const web = tempDir();
    mkdirSync(join(web, "assets"));
    writeFileSync(join(web, "index.html"), "<!doctype html><title>Capstan</title><div id=root></div>");
    writeFileSync(join(web, "assets", "index-abc123.js"), "console.log(1)");
    const s = await open({ webRoot: web });
    const root = await s.call("GET", "/");
    expect(root.status).toBe(200);
    expect(root.text).toContain("<title>Capstan</title>");
    expect(root.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(root.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const page = await s.call("GET", "/runs/some-run/tasks/x");
    expect(page.status).toBe(200);
    expect(page.text).toContain("<title>Capstan</title>");
    const asset = await s.call("GET", "/assets/index-abc123.js");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const api = await s.call<{ error: { code: string } }>("GET", "/api/nothing-here", { token: s.admin.token });
    expect(api.status).toBe(404);
    expect(api.body.error.code).toBe("not_found");
  });
});
