/**
 * The API's reads and accounts on PostgreSQL: the grid, run pages (full and summary) and sign-in
 * use dialect-specific SQL (string_agg, json_agg, window counts), so they run here against a real
 * PostgreSQL as well as on SQLite in the other tests.
 */
import { afterEach, expect, it } from "vitest";
import { createTestDatabase } from "../support/postgres.js";
import { openServer, type ServerHarness } from "./support/server-harness.js";

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it("serves grids, run pages and sessions from PostgreSQL", async () => {
  h = await openServer({
    databaseUrl: await createTestDatabase(),
    pipelines: {
      "two.yaml": `id: two
team: pg
tasks:
  first: { command: 'printf "{\\"n\\": 1}" > "$CAPSTAN_OUTPUT"' }
  second: { command: "exit 4", depends_on: [first] }
`,
    },
  });
  const s = h;
  const viewer = await s.user("vic", { pg: "viewer" });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const run = await s.call<{ id: string }>("POST", "/api/pipelines/two/runs", { token: s.admin.token, body: {} });
    await s.waitForRun(run.body.id);
    ids.push(run.body.id);
  }
  const grid = await s.call<{ total: number; tasks: { id: string }[]; runs: { id: string; state: string; states: string[]; tries: number[] }[] }>("GET", "/api/pipelines/two/grid?limit=2", { token: viewer.token });
  expect(grid.body.total).toBe(3);
  expect(grid.body.tasks.map((t) => t.id)).toEqual(["first", "second"]);
  expect(grid.body.runs.map((r) => r.id)).toEqual([ids[2], ids[1]]);
  expect(grid.body.runs[0]).toMatchObject({ state: "failed", states: ["success", "failed"], tries: [1, 1] });
  const full = await s.call<{ total: number; runs: { id: string; tasks: Record<string, { state: string; outputs: unknown; reason: string | null }> }[] }>("GET", "/api/runs?limit=1", { token: viewer.token });
  expect(full.body.total).toBe(3);
  expect(full.body.runs[0]?.tasks.first).toMatchObject({ state: "success", outputs: { n: 1 } });
  expect(full.body.runs[0]?.tasks.second?.reason).toMatch(/4/);
  expect(Object.keys(full.body.runs[0]?.tasks ?? {})).toEqual(["first", "second"]);
  const summary = await s.call<{ runs: { task_counts: Record<string, number> }[] }>("GET", "/api/runs?view=summary&state=failed", { token: viewer.token });
  expect(summary.body.runs).toHaveLength(3);
  expect(summary.body.runs[0]?.task_counts).toEqual({ success: 1, failed: 1 });
  expect((await s.call<{ total: number; runs: unknown[] }>("GET", "/api/runs?offset=5", { token: viewer.token })).body).toEqual({ total: 3, runs: [] });
  const pipelines = await s.call<{ pipelines: { last_runs: unknown[] }[] }>("GET", "/api/pipelines", { token: viewer.token });
  expect(pipelines.body.pipelines[0]?.last_runs).toHaveLength(3);
  const { cookie } = await s.login("vic", viewer.password);
  expect((await s.call<{ username: string }>("GET", "/api/auth/me", { headers: { cookie } })).body.username).toBe("vic");
  expect((await s.call("POST", "/api/pipelines/two/runs", { token: viewer.token, body: {} })).status).toBe(403);
});
