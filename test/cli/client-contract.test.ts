/**
 * The contract of CapstanClient, the CLI's one interface to the platform: the same cases run
 * against the HTTP client (a real server, an admin's token) and the in-process client (the home
 * opened in this process, as `capstan` does when no scheduler runs). Both must answer with the
 * same views and refuse the same requests, since both call the same operations.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient, InProcessClient, type CapstanClient } from "../../src/cli/client.js";
import { loadConfig } from "../../src/config/index.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";

const PIPELINES = {
  "typed.yaml": `id: typed
team: ml
description: typed params
params:
  n: { type: integer, default: 1, minimum: 0 }
  label: { type: string, default: x }
tasks:
  hello: { command: "echo hello {{ params.label }} $((1 + {{ params.n }}))" }
  after: { command: "true", depends_on: [hello] }
`,
  "daily.yaml": `id: daily
team: ml
schedule: "@daily"
start_date: 2026-01-01
catchup: false
tasks:
  a: { command: "true" }
`,
};

interface Opened {
  client: CapstanClient;
  close(): Promise<void>;
}

let opened: Opened | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

const backends: { name: string; open(): Promise<Opened> }[] = [
  {
    name: "HttpClient against a running server",
    async open() {
      const server: ServerHarness = await openServer({ pipelines: PIPELINES });
      const client = new HttpClient(server.url, server.admin.token);
      return { client, close: async () => (await client.close(), await server.close()) };
    },
  },
  {
    name: "InProcessClient on the home",
    open() {
      const dir = tempDir();
      const pipelines = join(dir, "pipelines");
      mkdirSync(pipelines, { recursive: true });
      for (const [name, text] of Object.entries(PIPELINES)) writeFileSync(join(pipelines, name), text);
      const client = new InProcessClient(loadConfig({ home: join(dir, "home"), pipelines: [pipelines] }, {}, dir));
      return Promise.resolve({ client, close: () => client.close() });
    },
  },
];

describe.each(backends)("$name", (backend) => {
  const open = async () => {
    opened = await backend.open();
    return opened.client;
  };

  it("lists pipelines with their team and tasks, and shows one with its spec", async () => {
    const client = await open();
    const { pipelines } = await client.listPipelines();
    expect(pipelines.map((p) => p.id).sort()).toEqual(["daily", "typed"]);
    expect(pipelines.find((p) => p.id === "typed")).toMatchObject({ team: "ml", description: "typed params", schedule: null, paused: false, tasks: 2, last_runs: [] });
    const detail = await client.getPipeline("typed");
    expect(detail).toMatchObject({ id: "typed", can_edit: true });
    expect(detail.spec.taskOrder).toEqual(["hello", "after"]);
    expect(detail.spec.params.n).toMatchObject({ type: "integer", default: 1 });
    expect(detail.source).toContain("typed params");
    await expect(client.getPipeline("nope")).rejects.toThrow(/no pipeline "nope"/);
  });

  it("triggers with typed params, waits for the run, and shows its tasks, attempts and log", async () => {
    const client = await open();
    const run = await client.trigger("typed", { n: 2, label: "world" }, { note: "contract" });
    expect(run).toMatchObject({ pipeline: "typed", params: { n: 2, label: "world" }, note: "contract" });
    expect(Object.keys(run.tasks)).toEqual(["hello", "after"]);
    const states: string[] = [];
    const final = await client.waitForRun(run.id, (view) => states.push(view.state));
    expect(final.state).toBe("success");
    expect(states.at(-1)).toBe("success");
    expect(await client.getRun(run.id)).toMatchObject({ id: run.id, state: "success", tasks: { hello: { state: "success", tries: 1 }, after: { state: "success", tries: 1 } } });

    const listed = await client.listRuns({ pipeline: "typed" });
    expect(listed.total).toBe(1);
    expect(listed.runs[0]).toMatchObject({ id: run.id, state: "success" });
    expect((await client.listRuns({ state: "failed" })).runs).toEqual([]);

    const task = await client.getTask(run.id, "hello");
    expect(task).toMatchObject({ run: run.id, task: "hello", pipeline: "typed", state: "success", kind: "command", depends_on: [], pool: "default", has_notebook: false });
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]).toMatchObject({ try: 1, state: "success", exit_code: 0 });
    expect(await client.getTask(run.id, "after")).toMatchObject({ depends_on: ["hello"] });

    const log = await client.readLog(run.id, "hello", undefined, 0);
    expect(log).toMatchObject({ try: 1, done: true });
    expect(log.text).toContain("hello world 3");
    expect(log.next).toBe(log.size);
    expect(await client.readLog(run.id, "hello", 1, -3)).toMatchObject({ try: 1, text: log.text.slice(-3), done: true });
  });

  it("marks and clears tasks of a finished run", async () => {
    const client = await open();
    const run = await client.trigger("typed", {}, {});
    await client.waitForRun(run.id, () => undefined);
    expect(await client.mark(run.id, "after", "failed")).toMatchObject({ state: "failed" });
    expect((await client.getRun(run.id)).tasks.after?.state).toBe("failed");
    expect((await client.clear(run.id, "hello", true)).sort()).toEqual(["after", "hello"]);
  });

  it("refuses bad params, unknown runs and tasks, naming what was wrong", async () => {
    const client = await open();
    await expect(client.trigger("typed", { n: "many" }, {})).rejects.toThrow('param n: expected an integer, got the string "many"');
    await expect(client.trigger("typed", { m: 1 }, {})).rejects.toThrow(/unknown param "m"/);
    await expect(client.trigger("typed", { n: -1 }, {})).rejects.toThrow(/param n/);
    await expect(client.getRun("no-such-run")).rejects.toThrow('no run "no-such-run"');
    await expect(client.cancel("no-such-run")).rejects.toThrow(/no run "no-such-run"/);
    const run = await client.trigger("typed", {}, {});
    await expect(client.getTask(run.id, "ghost")).rejects.toThrow(/no task "ghost"/);
  });

  it("backfills every data interval once", async () => {
    const client = await open();
    const first = await client.backfill("daily", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z", {});
    expect(first.created).toHaveLength(3);
    expect(first.existing).toEqual([]);
    const again = await client.backfill("daily", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z", {});
    expect(again.created).toEqual([]);
    expect(again.existing).toHaveLength(3);
    // A running server's scheduler may add the latest scheduled run; the backfilled ones are listed either way.
    expect((await client.listRuns({ pipeline: "daily" })).runs.map((r) => r.id)).toEqual(expect.arrayContaining(first.created));
  });

  it("creates, resizes, lists and deletes pools; the default pool stays", async () => {
    const client = await open();
    await client.setPool("gpu", 2, "the GPUs");
    await client.setPool("gpu", 4);
    expect((await client.listPools()).find((p) => p.name === "gpu")).toEqual({ name: "gpu", slots: 4, description: null, used: 0 });
    await client.deletePool("gpu");
    expect((await client.listPools()).map((p) => p.name)).not.toContain("gpu");
    await expect(client.deletePool("gpu")).rejects.toThrow('no pool "gpu"');
    await expect(client.deletePool("default")).rejects.toThrow("the default pool cannot be deleted");
  });

  it("keeps secrets write-only: names and keys are listed, never values", async () => {
    const client = await open();
    await client.setSecret("ml", "db", { user: "u", password: "p4ssw0rd-contract" });
    const listed = await client.listSecrets("ml");
    expect(listed.map(({ updated_at: _at, ...rest }) => rest)).toEqual([{ team: "ml", name: "db", keys: ["user", "password"] }]);
    expect(JSON.stringify(await client.listSecrets())).not.toContain("p4ssw0rd-contract");
    await client.deleteSecret("ml", "db");
    expect(await client.listSecrets("ml")).toEqual([]);
    await expect(client.deleteSecret("ml", "db")).rejects.toThrow('team ml has no secret "db"');
  });
});
