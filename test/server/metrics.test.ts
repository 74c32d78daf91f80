/**
 * GET /metrics: Prometheus figures after real runs on the local executor — final states counted,
 * attempts timed by executor, dependent hops measured, active states and pools read from the
 * database, API requests timed by route pattern — and only platform admins may read them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { openServer, type ServerHarness } from "./support/server-harness.js";

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CHAIN = `id: chain
team: data
tasks:
  a: { command: ["true"] }
  b: { command: ["true"], depends_on: [a] }
  c: { command: ["true"], depends_on: [b] }
  broken: { command: ["false"] }
`;

/** The value of one sample line, e.g. `name{label="x"} 3`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string | undefined> = Object.fromEntries([...(match[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m): [string, string] => [m[1] ?? "", m[2] ?? ""]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v) && Object.keys(found).length === Object.keys(labels).length) return Number(match[4]);
  }
  return undefined;
}

describe("GET /metrics", () => {
  it("counts ended runs, tasks and attempts, times launches and dependent hops, and reads active states and pools from the database", async () => {
    const s = (h = await openServer({ pipelines: { "chain.yaml": CHAIN }, configure: (config) => (config.pools = { gpu: { slots: 3 } }) }));
    for (let i = 0; i < 2; i++) {
      const run = await s.call<{ id: string }>("POST", "/api/pipelines/chain/runs", { token: s.admin.token, body: {} });
      expect(run.status).toBe(201);
      await s.waitForRun(run.body.id);
    }
    const answer = await s.call("GET", "/metrics", { token: s.admin.token });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = answer.text;
    // Two runs of four tasks: three successes and one failure each; both runs failed.
    expect(sample(text, "capstan_task_instances_finished_total", { state: "success" })).toBe(6);
    expect(sample(text, "capstan_task_instances_finished_total", { state: "failed" })).toBe(2);
    expect(sample(text, "capstan_runs_finished_total", { state: "failed" })).toBe(2);
    expect(sample(text, "capstan_attempt_duration_seconds_count", { executor: "local", outcome: "success" })).toBe(6);
    expect(sample(text, "capstan_attempt_duration_seconds_count", { executor: "local", outcome: "failed" })).toBe(2);
    expect(sample(text, "capstan_attempt_launch_seconds_count", { executor: "local" })).toBe(8);
    // b after a, c after b, in each run: four hops; a and broken have no upstream.
    expect(sample(text, "capstan_dependent_hop_seconds_count")).toBe(4);
    expect(sample(text, "capstan_dependent_hop_seconds_sum")).toBeGreaterThan(0);
    // Nothing is active any more; pools come from capstan.yaml and the database.
    expect(sample(text, "capstan_queue_depth")).toBe(0);
    expect(sample(text, "capstan_pool_slots", { pool: "gpu" })).toBe(3);
    expect(sample(text, "capstan_pool_slots_used", { pool: "gpu" })).toBe(0);
    // API requests by route pattern, never by raw URL (ids would make unbounded series).
    expect(sample(text, "capstan_http_request_duration_seconds_count", { method: "POST", route: "/api/pipelines/:id/runs", status: "201" })).toBe(2);
    expect(text).not.toMatch(/route="\/api\/runs\/chain-/);
    expect(text).toMatch(/^capstan_process_resident_memory_bytes \d+/m);
  });

  it("shows queued and running task instances while a run is in flight", async () => {
    const s = (h = await openServer({ pipelines: { "slow.yaml": "id: slow\ntasks:\n  wait: { command: [sleep, '30'] }\n  after: { command: ['true'], depends_on: [wait] }\n" } }));
    const run = await s.call<{ id: string }>("POST", "/api/pipelines/slow/runs", { token: s.admin.token, body: {} });
    await s.waitForTask(run.body.id, "wait", ["running"]);
    const text = (await s.call("GET", "/metrics", { token: s.admin.token })).text;
    expect(sample(text, "capstan_task_instances", { state: "running" })).toBe(1);
    expect(sample(text, "capstan_runs", { state: "running" })).toBe(1);
    await s.call("POST", `/api/runs/${run.body.id}/cancel`, { token: s.admin.token, body: {} });
    await s.waitForRun(run.body.id);
    const after = (await s.call("GET", "/metrics", { token: s.admin.token })).text;
    expect(sample(after, "capstan_task_instances", { state: "running" })).toBeUndefined();
    expect(sample(after, "capstan_runs_finished_total", { state: "cancelled" })).toBe(1);
  });

  it("refuses requests without a credential and people who are not platform admins, however the path is spelt", async () => {
    const s = (h = await openServer({ pipelines: { "chain.yaml": CHAIN } }));
    const editor = await s.user("eve", { data: "admin" });
    for (const path of ["/metrics", "/%6detrics", "//metrics", "/METRICS", "/metrics?x=1"]) {
      const anonymous = await s.call("GET", path);
      expect([401, 404], path).toContain(anonymous.status);
      expect(anonymous.text, path).not.toContain("capstan_");
    }
    expect((await s.call("GET", "/metrics")).status).toBe(401);
    const forbidden = await s.call("GET", "/metrics", { token: editor.token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.text).not.toContain("capstan_");
  });
});
