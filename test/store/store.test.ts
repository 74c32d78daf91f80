/**
 * One contract for the store, run against SQLite and PostgreSQL: the same reads, conditional moves,
 * uniqueness guarantees and ordering on both.
 */
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { Store, type NewRun, type NewTaskInstance } from "../../src/store/index.js";
import { createTestDatabase } from "../support/postgres.js";
import { tempDir } from "../support/platform-harness.js";

const backends = [
  { name: "sqlite", url: () => Promise.resolve(join(tempDir(), "capstan.db")) },
  { name: "postgres", url: createTestDatabase },
];

function newRun(id: string, over: Partial<NewRun> = {}): NewRun {
  return {
    id,
    pipelineId: "p",
    version: "v1",
    runKey: `manual:${id}`,
    trigger: "manual",
    state: "queued",
    logicalDate: 1_000,
    dataIntervalStart: 0,
    dataIntervalEnd: 1_000,
    params: { rate: 0.5, nested: { a: [1, 2] } },
    note: null,
    createdBy: null,
    createdAt: 10,
    startedAt: null,
    endedAt: null,
    ...over,
  };
}

function newTask(taskId: string, over: Partial<NewTaskInstance> = {}): NewTaskInstance {
  return {
    taskId,
    pipelineId: "p",
    state: "none",
    tryNumber: 0,
    maxTries: 1,
    pool: "default",
    poolSlots: 1,
    priorityWeight: 1,
    scheduledAt: null,
    queuedAt: null,
    startedAt: null,
    endedAt: null,
    nextRetryAt: null,
    outputs: null,
    reason: null,
    ...over,
  };
}

describe.each(backends)("store on $name", ({ url }) => {
  let store: Store | undefined;
  const open = async () => (store = await Store.open({ url: await url() }));
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("migrates an empty database, and migrating again changes nothing", async () => {
    const s = await open();
    await s.migrate();
    expect((await s.pools.list()).map((p) => [p.name, p.slots])).toEqual([["default", 128]]);
  });

  it("stores a run with its tasks and reads JSON columns back with their types", async () => {
    const s = await open();
    expect(await s.transaction((tx) => tx.runs.insert(newRun("r1"), [newTask("a"), newTask("b")]))).toBe(true);
    const run = await s.runs.get("r1");
    expect(run?.params).toEqual({ rate: 0.5, nested: { a: [1, 2] } });
    expect(typeof run?.logicalDate).toBe("number");
    expect((await s.tasks.listByRun("r1")).map((t) => t.taskId).sort()).toEqual(["a", "b"]);
  });

  it("refuses a second run with the same key, inserting none of its tasks", async () => {
    const s = await open();
    await s.transaction((tx) => tx.runs.insert(newRun("r1", { runKey: "interval:x" }), [newTask("a")]));
    const second = await s.transaction((tx) => tx.runs.insert(newRun("r2", { runKey: "interval:x" }), [newTask("a")]));
    expect(second).toBe(false);
    expect(await s.runs.get("r2")).toBeUndefined();
    expect(await s.tasks.listByRun("r2")).toEqual([]);
  });

  it("moves a task only from the expected state, so a concurrent move loses", async () => {
    const s = await open();
    await s.transaction((tx) => tx.runs.insert(newRun("r1"), [newTask("a")]));
    const key = { runId: "r1", taskId: "a" };
    expect(await s.tasks.move(key, ["none"], "scheduled", { scheduledAt: 5 }, 5)).toBe(true);
    expect(await s.tasks.move(key, ["none"], "skipped", {}, 6)).toBe(false);
    expect((await s.tasks.get(key))?.state).toBe("scheduled");
    expect(await s.tasks.move(key, ["scheduled"], "success", { outputs: { n: 1 } }, 7)).toBe(true);
    expect((await s.tasks.get(key))?.outputs).toEqual({ n: 1 });
  });

  it("allows one attempt per try number", async () => {
    const s = await open();
    const attempt = { runId: "r1", taskId: "a", tryNumber: 1, state: "launching" as const, executor: "local", externalId: "x", token: "t", host: "h", pid: null, pidStart: null, attemptDir: null, logPath: null, startedAt: 1, endedAt: null, exitCode: null, reason: null, killReason: null, schedulerId: "s" };
    await s.attempts.insert(attempt);
    await expect(s.attempts.insert({ ...attempt, token: "other" })).rejects.toThrow();
    expect(await s.attempts.update(attempt, ["launching"], { state: "running", pid: 42 })).toBe(true);
    expect(await s.attempts.update(attempt, ["launching"], { state: "lost" })).toBe(false);
    expect((await s.attempts.listActive("local")).map((a) => a.pid)).toEqual([42]);
  });

  it("lists schedulable tasks of running runs by priority, then by waiting time", async () => {
    const s = await open();
    await s.transaction((tx) =>
      tx.runs.insert(newRun("r1", { state: "running" }), [
        newTask("low", { state: "scheduled", priorityWeight: 1, scheduledAt: 1 }),
        newTask("high", { state: "scheduled", priorityWeight: 5, scheduledAt: 3 }),
        newTask("old", { state: "scheduled", priorityWeight: 1, scheduledAt: 0 }),
        newTask("idle", { state: "none" }),
      ]),
    );
    await s.transaction((tx) => tx.runs.insert(newRun("r2", { runKey: "k2", state: "queued" }), [newTask("waiting", { state: "scheduled", scheduledAt: 0 })]));
    const picked = await s.transaction((tx) => tx.tasks.listSchedulable(10));
    expect(picked.map((t) => t.taskId)).toEqual(["high", "old", "low"]);
  });

  it("counts slots in use per pool and tasks per pipeline", async () => {
    const s = await open();
    await s.transaction((tx) =>
      tx.runs.insert(newRun("r1", { state: "running" }), [
        newTask("a", { state: "running", pool: "gpu", poolSlots: 2 }),
        newTask("b", { state: "queued", pool: "gpu", poolSlots: 1 }),
        newTask("c", { state: "running" }),
        newTask("d", { state: "success", pool: "gpu" }),
      ]),
    );
    const usage = await s.tasks.activeUsage();
    expect(usage.byPool.get("gpu")).toBe(3);
    expect(usage.byPool.get("default")).toBe(1);
    expect(usage.byPipeline.get("p")).toBe(3);
  });

  it("finds due retries and the next retry time", async () => {
    const s = await open();
    await s.transaction((tx) =>
      tx.runs.insert(newRun("r1", { state: "running" }), [newTask("a", { state: "up_for_retry", nextRetryAt: 100 }), newTask("b", { state: "up_for_retry", nextRetryAt: 50 })]),
    );
    expect(await s.tasks.nextRetryAt()).toBe(50);
    expect((await s.tasks.listDueRetries(60)).map((t) => t.taskId)).toEqual(["b"]);
  });

  it("keeps the schedule position from scheduled runs only", async () => {
    const s = await open();
    await s.transaction((tx) => tx.runs.insert(newRun("r1", { trigger: "scheduled", runKey: "a", dataIntervalEnd: 500 }), []));
    await s.transaction((tx) => tx.runs.insert(newRun("r2", { trigger: "backfill", runKey: "b", dataIntervalEnd: 900 }), []));
    expect(await s.runs.lastScheduledIntervalEnd("p")).toBe(500);
    expect(await s.runs.lastScheduledIntervalEnd("other")).toBeNull();
  });

  it("pages runs newest first and counts them", async () => {
    const s = await open();
    for (let i = 0; i < 5; i++) await s.transaction((tx) => tx.runs.insert(newRun(`r${i}`, { runKey: `k${i}`, logicalDate: i * 10, state: i % 2 ? "success" : "failed" }), []));
    expect((await s.runs.list({ limit: 2 })).map((r) => r.id)).toEqual(["r4", "r3"]);
    expect((await s.runs.list({ limit: 2, offset: 2 })).map((r) => r.id)).toEqual(["r2", "r1"]);
    expect(await s.runs.count({ states: ["success"] })).toBe(2);
  });

  it("keeps pipeline versions and replaces load errors", async () => {
    const s = await open();
    const version = { id: "p", team: "t", version: "v1", file: "/f.yaml", baseDir: "/", description: null, scheduleText: null, spec: "{}", source: "id: p" };
    await s.pipelines.upsert(version, 1);
    await s.pipelines.upsert({ ...version, version: "v2", source: "id: p # v2" }, 2);
    expect((await s.pipelines.get("p"))?.version).toBe("v2");
    expect((await s.pipelines.getVersion("p", "v1"))?.source).toBe("id: p");
    await s.pipelines.replaceLoadErrors([{ file: "/bad.yaml", pipelineId: null, message: "bad", issues: [{ path: ["id"], message: "x" }] }], 3);
    await s.pipelines.replaceLoadErrors([{ file: "/bad2.yaml", pipelineId: null, message: "bad2", issues: [] }], 4);
    expect((await s.pipelines.listLoadErrors()).map((e) => e.file)).toEqual(["/bad2.yaml"]);
  });
});
