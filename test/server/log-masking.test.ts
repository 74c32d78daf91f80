/**
 * Secret masking against a real server, read as a team viewer would: every offset and tail of a
 * log, live streams from every offset, a running task whose secret is printed across two writes
 * with pauses (its last line incomplete), the output notebook (.ipynb and HTML), failure reasons,
 * and `capstan up`'s own log.
 *
 * The secret's letters are the only upper-case letters in what the tasks print, so an upper-case
 * letter in an answer's text is a piece of the secret shown: a sound check for "no part of it",
 * stronger than "no substring of length 2". It also holds a quote, a backslash, `<`, `>` and a line
 * break, which are escaped differently in JSON, Python and HTML.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startUp, type UpProcess } from "../support/cli-process.js";
import { openServer, type ServerHarness, type TestUser } from "./support/server-harness.js";
import { openSse, type SseEvent, type SseStream } from "./support/sse-client.js";
import { tempDir } from "../support/platform-harness.js";

const SECRET = 'QZX"JWQ\\<VKQ\nYPQ>KZQ';
const LINE1 = 'QZX"JWQ\\<VKQ';

function shown(text: string): string[] {
  return text.match(/[A-Z]/g) ?? [];
}

function logText(events: SseEvent[]): string {
  return events.filter((e) => e.event === "log").map((e) => (e.data as { text: string }).text).join("");
}

/** Waits for a condition a task brings about (a file it writes); the task's pace is not under the test's control. */
async function until(what: string, check: () => boolean, state: () => string = () => "", timeoutMs = 30_000): Promise<void> {
  for (const start = Date.now(); !check(); ) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: ${state()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const PIPELINE = `id: secretive
team: team-a
tasks:
  done:
    command: 'printf "start\\ntoken=%s\\nagain %s%s\\nend\\n" "$API_TOKEN" "$API_TOKEN" "$API_TOKEN"; printf "tail %s" "$API_TOKEN"'
    secrets: { API_TOKEN: "api/token" }
  running:
    command: >-
      printf "start\\npw=%s" "$(printf "%s" "$API_TOKEN" | head -c 5)";
      touch "$CAPSTAN_ARTIFACTS_DIR/half1"; while [ ! -e "$CAPSTAN_ARTIFACTS_DIR/go1" ]; do sleep 0.05; done;
      printf "%s\\nnext=%s\\n" "$(printf "%s" "$API_TOKEN" | tail -c +6)" "$(printf "%s\\n" "$API_TOKEN" | head -n 1)";
      touch "$CAPSTAN_ARTIFACTS_DIR/half2"; while [ ! -e "$CAPSTAN_ARTIFACTS_DIR/go2" ]; do sleep 0.05; done;
      printf "%s end" "$(printf "%s\\n" "$API_TOKEN" | tail -n +2)";
      printf "failed with %s" "$API_TOKEN" > "$CAPSTAN_OUTPUT"; exit 3
    secrets: { API_TOKEN: "api/token" }
`;

let h: ServerHarness | undefined;
let up: UpProcess | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (up && up.child.exitCode === null) {
    const exited = new Promise((resolve) => up?.child.once("exit", resolve));
    up.child.kill("SIGTERM");
    await exited;
  }
  up = undefined;
});

async function setUp(): Promise<{ s: ServerHarness; viewer: TestUser }> {
  // No log cap: the capped writer (head -c) passes output on in blocks, and this test needs each write in the file as it happens.
  h = await openServer({ pipelines: { "secretive.yaml": PIPELINE }, configure: (config) => void (config.local.maxLogBytes = 0) });
  const s = h;
  const alice = await s.user("alice", { "team-a": "admin" });
  expect((await s.call("PUT", "/api/secrets/team-a/api", { token: alice.token, body: { data: { token: SECRET } } })).status).toBe(200);
  // Another team's secret is masked too: masking more is safe.
  expect((await s.call("PUT", "/api/secrets/team-b/other", { token: s.admin.token, body: { data: { key: "other-team-value" } } })).status).toBe(200);
  return { s, viewer: await s.user("vera", { "team-a": "viewer" }) };
}

type Chunk = { text: string; next: number; size: number; done: boolean };

/** Range reads from every offset and every tail, and a stream from every offset; each answer's text must show no part of the secret. */
async function readEverywhere(s: ServerHarness, viewer: TestUser, path: string, size: number): Promise<SseStream[]> {
  for (let offset = 0; offset <= size; offset++) {
    for (const asked of offset === 0 ? [0] : [offset, -offset]) {
      const answer = await s.call<Chunk>("GET", `${path}?offset=${asked}`, { token: viewer.token });
      expect(answer.status).toBe(200);
      expect(shown(answer.body.text), `offset ${asked}: ${JSON.stringify(answer.body.text)}`).toEqual([]);
    }
  }
  const streams: SseStream[] = [];
  for (let offset = 0; offset <= size; offset++) streams.push(await openSse(`${s.url}${path}/stream?offset=${offset}`, { authorization: `Bearer ${viewer.token}` }));
  return streams;
}

describe("secret masking in logs", () => {
  it("shows no part of a secret from any offset, tail or stream offset of a finished log", async () => {
    const { s, viewer } = await setUp();
    const trigger = await s.call<{ id: string }>("POST", "/api/pipelines/secretive/runs", { token: s.admin.token, body: {} });
    await s.waitForTask(trigger.body.id, "done", ["success"]);
    const path = `/api/runs/${trigger.body.id}/tasks/done/logs`;
    const whole = await s.call<Chunk>("GET", path, { token: viewer.token });
    const streams = await readEverywhere(s, viewer, path, whole.body.size);
    const streamed: string[] = [];
    for (const stream of streams) streamed.push(logText(await stream.until((all) => all.some((e) => e.event === "end"))));
    for (const [offset, text] of streamed.entries()) expect(shown(text), `stream from ${offset}: ${JSON.stringify(text)}`).toEqual([]);
    // One *** per masked piece (the secret twice in a row is one piece), the same in a stream.
    expect(whole.body.text).toBe("start\ntoken=***\nagain ***\nend\ntail ***");
    expect(whole.body.done).toBe(true);
    expect(streamed[0]).toBe(whole.body.text);
  });

  it("holds back a secret printed across two writes while the task runs, in range reads and live streams", async () => {
    const { s, viewer } = await setUp();
    const trigger = await s.call<{ id: string }>("POST", "/api/pipelines/secretive/runs", { token: s.admin.token, body: {} });
    const runId = trigger.body.id;
    const artifacts = join(s.home, "artifacts", runId);
    const path = `/api/runs/${runId}/tasks/running/logs`;
    await s.waitForTask(runId, "running", ["running"]);
    const attempt = await s.platform.store.attempts.get({ runId, taskId: "running", tryNumber: 1 });
    const logPath = attempt?.logPath ?? "";
    const state = () => `log ${JSON.stringify(existsSync(logPath) ? readFileSync(logPath, "utf8") : null)}, artifacts ${existsSync(artifacts) ? readdirSync(artifacts).join(", ") : "missing"}`;
    const follower = await openSse(`${s.url}${path}/stream`, { authorization: `Bearer ${viewer.token}` });

    // First pause: the log ends in the middle of the secret's first line (no line end yet).
    await until("the first half", () => existsSync(join(artifacts, "half1")) && readFileSync(logPath, "utf8").endsWith('pw=QZX"J'), state);
    const firstStreams = await readEverywhere(s, viewer, path, 14);
    const first = await s.call<Chunk>("GET", path, { token: viewer.token });
    expect(first.body).toEqual({ try: 1, text: "start\npw=", next: 9, size: 14, done: false });
    expect((await follower.until((all) => logText(all) === "start\npw=")).length).toBeGreaterThan(0);
    writeFileSync(join(artifacts, "go1"), "");

    // Second pause: the secret was printed whole, then again up to the line break inside it.
    await until("the second half", () => existsSync(join(artifacts, "half2")) && readFileSync(logPath, "utf8").endsWith(`next=${LINE1}\n`), state);
    const secondStreams = await readEverywhere(s, viewer, path, Buffer.byteLength(readFileSync(logPath)));
    const second = await s.call<Chunk>("GET", path, { token: viewer.token });
    expect(second.body.text).toBe("start\npw=***\nnext=");
    expect(second.body.done).toBe(false);
    await follower.until((all) => logText(all) === "start\npw=***\nnext=");
    writeFileSync(join(artifacts, "go2"), "");

    await s.waitForRun(runId);
    const events = await follower.until((all) => all.some((e) => e.event === "end"));
    for (const [offset, stream] of [...firstStreams, ...secondStreams].entries()) {
      const streamed = await stream.until((all) => all.some((e) => e.event === "end"));
      expect(shown(logText(streamed)), `stream ${offset}`).toEqual([]);
    }
    expect(shown(logText(events))).toEqual([]);
    expect(logText(events)).toBe("start\npw=***\nnext=*** end");
    const final = await s.call<Chunk>("GET", path, { token: viewer.token });
    expect(final.body).toMatchObject({ text: "start\npw=***\nnext=*** end", done: true });
    await readEverywhere(s, viewer, path, final.body.size).then((streams) => Promise.all(streams.map((st) => st.until((all) => all.some((e) => e.event === "end")))));

    // The failure reason (its line break made a space, as reasons are one line) is masked where it is shown.
    const task = await s.call<{ reason: string; attempts: { reason: string }[] }>("GET", `/api/runs/${runId}/tasks/running`, { token: viewer.token });
    expect(task.body.reason).toBe("exit code 3: failed with ***");
    expect(task.body.attempts.map((a) => a.reason)).toEqual(["exit code 3: failed with ***"]);
  });
});

describe("secret masking in output notebooks", () => {
  it("shows no part of a secret with a quote, backslash, < or line break in the .ipynb or its HTML", async () => {
    const json = (v: string) => JSON.stringify(v).slice(1, -1);
    const [line1, line2] = SECRET.split("\n") as [string, string];
    const notebook = JSON.stringify(
      {
        cells: [
          { cell_type: "markdown", metadata: {}, source: [`key ${SECRET}`] },
          {
            cell_type: "code",
            execution_count: 1,
            metadata: {},
            source: [`key = ${JSON.stringify(SECRET)}`],
            outputs: [
              { output_type: "stream", name: "stdout", text: [`key=${line1}\n`, `${line2}\n`, `json: {"k": "${json(SECRET)}"}\n`] },
              { output_type: "display_data", metadata: {}, data: { "text/html": `<b>${SECRET.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")}</b>` } },
              { output_type: "error", ename: "oops", evalue: json(SECRET), traceback: [`oops: ${line1}`, line2] },
            ],
          },
        ],
        metadata: {},
        nbformat: 4,
        nbformat_minor: 5,
      },
      null,
      1,
    );
    const encoded = Buffer.from(notebook).toString("base64");
    h = await openServer({
      pipelines: {
        "nb.yaml": `id: nb
team: team-a
tasks:
  write:
    command: 'd=$(dirname "$CAPSTAN_OUTPUT"); printf "%s" "${encoded}" | base64 -d > "$d/out.ipynb"; printf "{\\"notebook\\": \\"%s\\"}" "$d/out.ipynb" > "$CAPSTAN_OUTPUT"'
`,
      },
    });
    const s = h;
    const alice = await s.user("alice", { "team-a": "admin" });
    expect((await s.call("PUT", "/api/secrets/team-a/api", { token: alice.token, body: { data: { token: SECRET } } })).status).toBe(200);
    const viewer = await s.user("vera", { "team-a": "viewer" });
    const trigger = await s.call<{ id: string }>("POST", "/api/pipelines/nb/runs", { token: s.admin.token, body: {} });
    expect((await s.waitForRun(trigger.body.id)).state).toBe("success");
    const ipynb = await s.call<unknown>("GET", `/api/runs/${trigger.body.id}/tasks/write/notebook`, { token: viewer.token });
    expect(ipynb.status).toBe(200);
    expect(shown(ipynb.text)).toEqual([]);
    expect(ipynb.text).toContain("key=***");
    expect(typeof ipynb.body).toBe("object");
    const page = await s.call<string>("GET", `/api/runs/${trigger.body.id}/tasks/write/notebook/html`, { token: viewer.token });
    expect(page.status).toBe(200);
    const body = page.text.slice(page.text.indexOf("<body>"));
    expect(shown(body)).toEqual([]);
    expect(body).toContain("<b>***</b>");
  });
});

describe("capstan up's own log, and the CLI without a server", () => {
  it("masks a failure reason that holds a secret", async () => {
    const dir = tempDir();
    const home = join(dir, "home");
    const pipelines = join(dir, "pipelines");
    mkdirSync(pipelines);
    writeFileSync(
      join(pipelines, "fails.yaml"),
      `id: fails
tasks:
  leak:
    command: 'printf "failed with %s" "$API_TOKEN" > "$CAPSTAN_OUTPUT"; exit 3'
    secrets: { API_TOKEN: "api/token" }
`,
    );
    const env = { CAPSTAN_CREDENTIALS: join(dir, "credentials.json"), CAPSTAN_LOG_LEVEL: "info" };
    const args = ["--home", home, "--pipelines", pipelines];
    const set = await runCli([...args, "secrets", "set", "api", `token=${SECRET}`, "--team", "default"], { cwd: dir, env });
    expect(set.code, set.stderr).toBe(0);
    // Without a server, the CLI runs it in process and shows the run as the API would: masked.
    const local = await runCli([...args, "--json", "run", "fails", "--wait"], { cwd: dir, env });
    const shownRun = await runCli([...args, "--json", "runs", "show", (JSON.parse(local.stdout) as { id: string }).id], { cwd: dir, env });
    for (const out of [local.stdout, shownRun.stdout]) {
      expect(out).toContain("exit code 3: failed with ***");
      for (const piece of [LINE1, JSON.stringify(LINE1).slice(1, -1), "YPQ>KZQ"]) expect(out).not.toContain(piece);
    }
    up = await startUp(args, { cwd: dir, env });
    await runCli([...args, "run", "fails", "--wait"], { cwd: dir, env });
    const running = up;
    await until("the attempt's end in the log", () => running.stderr().includes("attempt ended"));
    const line = running.stderr().split("\n").find((l) => l.includes("attempt ended")) ?? "";
    // The reason, a one-line form of the secret (its line break made a space), JSON-escaped in the log line.
    expect((JSON.parse(line) as { reason: string }).reason).toBe("exit code 3: failed with ***");
    for (const piece of [LINE1, JSON.stringify(LINE1).slice(1, -1), "YPQ>KZQ"]) expect(running.stderr()).not.toContain(piece);
  });
});
