/**
 * The engine end to end on SQLite with real processes: trigger rules, retries and timeouts on a fake
 * clock, pools and limits, cancel, clear, mark, outputs, params, versions, bad commands.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/index.js";
import { isProcessAlive } from "../../src/executors/local/process-info.js";
import { ParamError } from "../../src/pipelines/index.js";
import { openHarness, type Harness, type HarnessOptions } from "../support/platform-harness.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function open(options: HarnessOptions): Promise<Harness> {
  harness = await openHarness(options);
  return harness;
}

async function eventually(check: () => boolean, timeoutMs = 5000, refresh?: () => Promise<void>): Promise<void> {
  const start = Date.now();
  for (;;) {
    await refresh?.();
    if (check()) return;
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("trigger rules in a real run", () => {
  it("decides downstream tasks from upstream states and fails the run by its leaves", async () => {
    const h = await open({
      pipelines: {
        "rules.yaml": `id: rules
tasks:
  bad: { command: "exit 1" }
  good: { command: "true" }
  after_all_success: { command: "true", depends_on: [bad, good] }
  after_all_done: { command: "true", depends_on: [bad, good], trigger_rule: all_done }
  after_one_failed: { command: "true", depends_on: [bad, good], trigger_rule: one_failed }
  after_none_failed: { command: "true", depends_on: [bad, good], trigger_rule: none_failed }
  chained: { command: "true", depends_on: [after_all_success] }
  final: { command: "true", depends_on: [chained], trigger_rule: all_done }
`,
      },
    });
    const run = await h.platform.scheduler.trigger("rules");
    expect((await h.waitForRun(run.id)).state).toBe("failed");
    expect(await h.taskStates(run.id)).toEqual({
      bad: "failed",
      good: "success",
      after_all_success: "upstream_failed",
      after_all_done: "success",
      after_one_failed: "success",
      after_none_failed: "upstream_failed",
      chained: "upstream_failed",
      final: "success",
    });
  });

  it("skips a task whose exit code is listed in skip_on_exit_code, and its all_success downstream", async () => {
    const h = await open({
      pipelines: {
        "skip.yaml": `id: skip
tasks:
  check: { command: "exit 99", skip_on_exit_code: 99 }
  after: { command: "true", depends_on: [check] }
`,
      },
    });
    const run = await h.platform.scheduler.trigger("skip");
    expect((await h.waitForRun(run.id)).state).toBe("success");
    expect(await h.taskStates(run.id)).toEqual({ check: "skipped", after: "skipped" });
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "check" }))?.reason).toMatch(/exit code 99 means skipped/);
  });
});

describe("retries and timeouts on a fake clock", () => {
  it("retries after retry_delay, and not before", async () => {
    const clock = new FakeClock("2026-01-01T00:00:00Z");
    const h = await open({
      clock,
      pipelines: {
        "flaky.yaml": `id: flaky
tasks:
  flaky:
    command: '[ "$CAPSTAN_TRY" -ge 3 ]'
    retries: 3
    retry_delay: 30s
    retry_exponential_backoff: true
    max_retry_delay: 45s
`,
      },
    });
    const run = await h.platform.scheduler.trigger("flaky");
    const first = await h.waitForTask(run.id, "flaky", ["up_for_retry"]);
    expect(first.tryNumber).toBe(1);
    expect(first.nextRetryAt).toBe(clock.now() + 30_000);
    expect(first.reason).toBe("exit code 1");
    clock.advance(29_000);
    await h.platform.scheduler.settled();
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "flaky" }))?.state).toBe("up_for_retry");
    clock.advance(1_000);
    let second = await h.platform.store.tasks.get({ runId: run.id, taskId: "flaky" });
    await eventually(() => second?.tryNumber === 2 && second.state === "up_for_retry", 10_000, async () => {
      second = await h.platform.store.tasks.get({ runId: run.id, taskId: "flaky" });
    });
    // Backoff doubles 30s to 60s; max_retry_delay caps it at 45s.
    expect(second?.nextRetryAt).toBe(clock.now() + 45_000);
    clock.advance(45_000);
    expect((await h.waitForRun(run.id)).state).toBe("success");
    const attempts = await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "flaky" });
    expect(attempts.map((a) => [a.tryNumber, a.state])).toEqual([[1, "failed"], [2, "failed"], [3, "success"]]);
  });

  it("kills the whole process group when the timeout passes", async () => {
    const clock = new FakeClock("2026-01-01T00:00:00Z");
    const h = await open({
      clock,
      pipelines: {
        "slow.yaml": `id: slow
tasks:
  slow:
    command: 'sleep 600 & echo $! > "$CAPSTAN_ARTIFACTS_DIR/child.pid"; wait'
    timeout: 10s
`,
      },
    });
    const run = await h.platform.scheduler.trigger("slow");
    await h.waitForTask(run.id, "slow", ["running"]);
    const pidFile = join(h.home, "artifacts", run.id, "child.pid");
    await eventually(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "");
    const child = Number(readFileSync(pidFile, "utf8"));
    expect(isProcessAlive(child, null)).toBe(true);
    clock.advance(10_000);
    const failed = await h.waitForTask(run.id, "slow", ["failed"]);
    expect(failed.reason).toBe("timed out after 10s");
    await eventually(() => !isProcessAlive(child, null));
    expect((await h.waitForRun(run.id)).state).toBe("failed");
  });
});

describe("limits", () => {
  const exclusive = (dir: string) => `mkdir "${dir}/lock" || { echo "two ran at once" >&2; exit 1; }; sleep 0.2; rmdir "${dir}/lock"`;

  it("runs at most the pool's slots at once", async () => {
    const h = await open({ configure: (c) => (c.pools = { single: { slots: 1 } }) });
    h.writePipeline("pool.yaml", `id: pool\ntasks:\n${["a", "b", "c"].map((t) => `  ${t}: { command: '${exclusive(h.dir)}', pool: single }`).join("\n")}\n`);
    await h.platform.reloadPipelines();
    const run = await h.platform.scheduler.trigger("pool");
    expect((await h.waitForRun(run.id)).state).toBe("success");
  });

  it("fails a task whose pool does not exist, naming the pools there are", async () => {
    const h = await open({ pipelines: { "nopool.yaml": `id: nopool\ntasks:\n  a: { command: "true", pool: missing }\n` } });
    const run = await h.platform.scheduler.trigger("nopool");
    await h.waitForRun(run.id);
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "a" }))?.reason).toMatch(/pool "missing" does not exist; pools: default/);
  });

  it("runs at most max_active_tasks of a pipeline at once", async () => {
    const h = await open({});
    h.writePipeline("narrow.yaml", `id: narrow\nmax_active_tasks: 1\ntasks:\n${["a", "b", "c"].map((t) => `  ${t}: { command: '${exclusive(h.dir)}' }`).join("\n")}\n`);
    await h.platform.reloadPipelines();
    const run = await h.platform.scheduler.trigger("narrow");
    expect((await h.waitForRun(run.id)).state).toBe("success");
  });

  it("runs at most max_active_runs runs of a pipeline at once, the others wait queued", async () => {
    const h = await open({});
    h.writePipeline("serial.yaml", `id: serial\nmax_active_runs: 1\ntasks:\n  a: { command: '${exclusive(h.dir)}' }\n`);
    await h.platform.reloadPipelines();
    const runs = [await h.platform.scheduler.trigger("serial"), await h.platform.scheduler.trigger("serial"), await h.platform.scheduler.trigger("serial")];
    for (const run of runs) expect((await h.waitForRun(run.id)).state).toBe("success");
  });

  it("fails a task that asks for a GPU on a machine without one, and keeps scheduling", async () => {
    const h = await open({
      configure: (c) => (c.local.gpus = []),
      pipelines: { "gpu.yaml": `id: gpu\ntasks:\n  train: { command: "true", resources: { gpu: 1 } }\n  other: { command: "true" }\n` },
    });
    const run = await h.platform.scheduler.trigger("gpu");
    expect((await h.waitForRun(run.id)).state).toBe("failed");
    const train = await h.platform.store.tasks.get({ runId: run.id, taskId: "train" });
    expect(train?.reason).toMatch(/asks for 1 GPU\(s\) but this machine has none/);
    expect(train?.tryNumber).toBe(0);
    expect((await h.taskStates(run.id)).other).toBe("success");
  });
});

describe("bad commands", () => {
  it("fails an attempt whose command does not exist with that reason, and the scheduler carries on", async () => {
    const h = await open({
      pipelines: {
        "missing.yaml": `id: missing\ntasks:\n  a: { command: ["no-such-program-xyz", "--flag"], retries: 2, retry_delay: 1s }\n`,
        "fine.yaml": `id: fine\ntasks:\n  a: { command: "true" }\n`,
      },
    });
    const bad = await h.platform.scheduler.trigger("missing");
    expect((await h.waitForRun(bad.id)).state).toBe("failed");
    const ti = await h.platform.store.tasks.get({ runId: bad.id, taskId: "a" });
    expect(ti?.reason).toMatch(/^could not start: command not found: no-such-program-xyz \(searched PATH/);
    // Retrying cannot help a missing program, so it is not retried.
    expect(ti?.tryNumber).toBe(1);
    const good = await h.platform.scheduler.trigger("fine");
    expect((await h.waitForRun(good.id)).state).toBe("success");
  });

  it("fails a task whose outputs are not a JSON object", async () => {
    const h = await open({ pipelines: { "out.yaml": `id: out\ntasks:\n  a: { command: 'echo "[1, 2" > "$CAPSTAN_OUTPUT"' }\n` } });
    const run = await h.platform.scheduler.trigger("out");
    await h.waitForRun(run.id);
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "a" }))?.reason).toMatch(/^outputs: \$CAPSTAN_OUTPUT is not valid JSON/);
  });

  it("adds the text a failing task wrote to $CAPSTAN_OUTPUT to its reason, as a pod's termination message", async () => {
    const h = await open({ pipelines: { "why.yaml": `id: why\ntasks:\n  a: { command: 'printf "table prices is empty\\nsee the log" > "$CAPSTAN_OUTPUT"; exit 3' }\n` } });
    const run = await h.platform.scheduler.trigger("why");
    await h.waitForRun(run.id);
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "a" }))?.reason).toBe("exit code 3: table prices is empty see the log");
  });
});

describe("operations on runs", () => {
  it("cancels a run: the running process group is killed and unfinished tasks are cancelled", async () => {
    const h = await open({ pipelines: { "long.yaml": `id: long\ntasks:\n  a: { command: "sleep 600" }\n  b: { command: "true", depends_on: [a] }\n` } });
    const run = await h.platform.scheduler.trigger("long");
    await h.waitForTask(run.id, "a", ["running"]);
    const attempt = (await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "a" }))[0];
    expect(await h.platform.scheduler.cancel(run.id)).toMatchObject({ state: "cancelled" });
    expect(await h.taskStates(run.id)).toEqual({ a: "cancelled", b: "cancelled" });
    await eventually(() => !isProcessAlive(attempt?.pid ?? 0, attempt?.pidStart ?? null));
    let ended = attempt;
    await eventually(() => ended?.state === "failed", 5000, async () => {
      ended = (await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "a" }))[0];
    });
    expect(ended).toMatchObject({ state: "failed", reason: "cancelled" });
  });

  it("clears a task with its downstream so they run again with a new try", async () => {
    const h = await open({ pipelines: { "ab.yaml": `id: ab\ntasks:\n  a: { command: "true" }\n  b: { command: "true", depends_on: [a] }\n  c: { command: "true" }\n` } });
    const run = await h.platform.scheduler.trigger("ab");
    await h.waitForRun(run.id);
    expect(await h.platform.scheduler.clear(run.id, ["a"], { downstream: true })).toEqual(["a", "b"]);
    expect((await h.waitForRun(run.id)).state).toBe("success");
    const tasks = await h.platform.store.tasks.listByRun(run.id);
    expect(Object.fromEntries(tasks.map((t) => [t.taskId, t.tryNumber]))).toEqual({ a: 2, b: 2, c: 1 });
  });

  it("marks a failed task success, which makes the run succeed", async () => {
    const h = await open({ pipelines: { "one.yaml": `id: one\ntasks:\n  a: { command: "exit 3" }\n` } });
    const run = await h.platform.scheduler.trigger("one");
    expect((await h.waitForRun(run.id)).state).toBe("failed");
    await h.platform.scheduler.mark(run.id, "a", "success");
    expect((await h.platform.store.runs.get(run.id))?.state).toBe("success");
  });
});

describe("params and templates", () => {
  it("fills in params with their defaults and refuses values of the wrong type", async () => {
    const h = await open({
      pipelines: {
        "params.yaml": `id: params
params:
  rate: { type: number, default: 0.5, maximum: 1 }
  label: { type: string }
tasks:
  a: { command: 'printf "{\\"line\\": \\"%s\\"}" "{{ params.label }} {{ params.rate }} {{ ds }}" > "$CAPSTAN_OUTPUT"' }
`,
      },
    });
    await expect(h.platform.scheduler.trigger("params", {})).rejects.toThrow(/param label is required/);
    await expect(h.platform.scheduler.trigger("params", { params: { label: "x", rate: "high" } })).rejects.toThrow(ParamError);
    await expect(h.platform.scheduler.trigger("params", { params: { label: "x", rate: 2 } })).rejects.toThrow(/2 is above the maximum 1/);
    await expect(h.platform.scheduler.trigger("params", { params: { label: "x", colour: 1 } })).rejects.toThrow(/unknown param "colour"; this pipeline accepts rate, label/);
    const run = await h.platform.scheduler.trigger("params", { params: { label: "hello" }, logicalDate: Date.parse("2026-03-04T05:06:07Z") });
    await h.waitForRun(run.id);
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "a" }))?.outputs).toEqual({ line: "hello 0.5 2026-03-04" });
  });

  it("fails a task whose template reads an output the upstream did not write", async () => {
    const h = await open({ pipelines: { "t.yaml": `id: t\ntasks:\n  a: { command: "true" }\n  b: { command: "echo {{ tasks.a.outputs.path }}", depends_on: [a] }\n` } });
    const run = await h.platform.scheduler.trigger("t");
    await h.waitForRun(run.id);
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "b" }))?.reason).toMatch(/task b: field command: \{\{ tasks\.a\.outputs\.path \}\}: task a has no output "path"; its outputs: none/);
  });
});

describe("secrets", () => {
  it("hands a team secret to the task as an environment variable and masks it in logs", async () => {
    const h = await open({
      pipelines: {
        "s.yaml": `id: s\nteam: data\ntasks:\n  use: { command: 'echo "token is $API_TOKEN"; [ "$API_TOKEN" = "s3cr3t-value" ]', secrets: { API_TOKEN: "api/token" } }\n`,
      },
    });
    await h.platform.secrets.set("data", "api", { token: "s3cr3t-value" });
    const run = await h.platform.scheduler.trigger("s");
    expect((await h.waitForRun(run.id)).state).toBe("success");
    const attempt = (await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "use" }))[0];
    const raw = readFileSync(attempt?.logPath ?? "", "utf8");
    expect(raw).toContain("s3cr3t-value");
    expect(await h.platform.secrets.redact(raw)).toBe("token is ***\n");
    expect(JSON.stringify(await h.platform.secrets.list())).not.toContain("s3cr3t");
  });

  it("fails the attempt, naming the secret, when it does not exist", async () => {
    const h = await open({ pipelines: { "s.yaml": `id: s\ntasks:\n  use: { command: "true", secrets: { X: "missing/key" } }\n` } });
    const run = await h.platform.scheduler.trigger("s");
    expect((await h.waitForRun(run.id)).state).toBe("failed");
    expect((await h.platform.store.tasks.get({ runId: run.id, taskId: "use" }))?.reason).toMatch(/X: team default has no secret "missing"; its secrets: none/);
  });
});

describe("pipeline versions", () => {
  it("pins a run to the version it started with, keeps it readable, and keeps a good version when the file breaks", async () => {
    const h = await open({});
    const gate = join(h.dir, "gate");
    const file = h.writePipeline("v.yaml", `id: v\ntasks:\n  wait: { command: 'while [ ! -e "${gate}" ]; do sleep 0.05; done' }\n  after: { command: "true", depends_on: [wait] }\n`);
    await h.platform.reloadPipelines();
    const run = await h.platform.scheduler.trigger("v");
    const firstVersion = run.version;
    await h.waitForTask(run.id, "wait", ["running"]);
    h.writePipeline("v.yaml", `id: v\ntasks:\n  wait: { command: "true" }\n  renamed: { command: "true", depends_on: [wait] }\n`);
    await h.platform.reloadPipelines();
    expect(h.platform.registry.get("v")?.version).not.toBe(firstVersion);
    h.writePipeline("v.yaml", "id: v\ntasks: [this is not a mapping\n");
    const change = await h.platform.reloadPipelines();
    expect(change.errors[0]?.file).toBe(file);
    expect(h.platform.registry.get("v")?.spec.tasks.renamed).toBeDefined();
    expect((await h.platform.store.pipelines.listLoadErrors())[0]?.message).toMatch(/v\.yaml:\d+:\d+: YAML syntax error/);
    (await import("node:fs")).writeFileSync(gate, "");
    expect((await h.waitForRun(run.id)).state).toBe("success");
    expect(Object.keys(await h.taskStates(run.id)).sort()).toEqual(["after", "wait"]);
    expect((await h.platform.store.pipelines.getVersion("v", firstVersion))?.source).toContain("after:");
  });
});

describe("schedules on a fake clock", () => {
  it("creates the latest interval's run at once without catchup, then one per tick", async () => {
    const clock = new FakeClock("2026-01-01T00:12:00Z");
    const h = await open({
      clock,
      pipelines: { "cron.yaml": `id: cron\nschedule: "*/5 * * * *"\nstart_date: 2026-01-01T00:00:00Z\ntasks:\n  a: { command: "true" }\n` },
    });
    const first = (await eventuallyRuns(h, 1))[0];
    expect(first).toMatchObject({ trigger: "scheduled", logicalDate: Date.parse("2026-01-01T00:05:00Z"), dataIntervalEnd: Date.parse("2026-01-01T00:10:00Z") });
    await h.waitForRun(first?.id ?? "");
    clock.set("2026-01-01T00:15:00Z");
    const runs = await eventuallyRuns(h, 2);
    expect(runs.map((r) => new Date(r.logicalDate).toISOString())).toEqual(["2026-01-01T00:10:00.000Z", "2026-01-01T00:05:00.000Z"]);
  });

  it("catches up missed intervals one run at a time with max_active_runs 1", async () => {
    const clock = new FakeClock("2026-01-01T00:16:00Z");
    const h = await open({
      clock,
      pipelines: { "catch.yaml": `id: catch\nschedule: "*/5 * * * *"\nstart_date: 2026-01-01T00:00:00Z\ncatchup: true\nmax_active_runs: 1\ntasks:\n  a: { command: "true" }\n` },
    });
    const runs = await eventuallyRuns(h, 3, 20_000);
    for (const run of runs) expect((await h.waitForRun(run.id)).state).toBe("success");
    expect(runs.map((r) => new Date(r.logicalDate).toISOString().slice(11, 16)).sort()).toEqual(["00:00", "00:05", "00:10"]);
  });

  it("backfills a date range once, and reports the dates that already have runs", async () => {
    const h = await open({ pipelines: { "daily.yaml": `id: daily\nschedule: "@daily"\nstart_date: 2025-01-01\ncatchup: false\ntasks:\n  a: { command: "true" }\n` } });
    const result = await h.platform.scheduler.backfill("daily", Date.parse("2025-12-01"), Date.parse("2025-12-03"));
    expect(result.created.map((r) => new Date(r.logicalDate).toISOString().slice(0, 10))).toEqual(["2025-12-01", "2025-12-02", "2025-12-03"]);
    for (const run of result.created) expect((await h.waitForRun(run.id)).state).toBe("success");
    const again = await h.platform.scheduler.backfill("daily", Date.parse("2025-12-02"), Date.parse("2025-12-04"));
    expect(again.created).toHaveLength(1);
    expect(again.existing).toEqual(["2025-12-02T00:00:00.000Z", "2025-12-03T00:00:00.000Z"]);
  });
});

async function eventuallyRuns(h: Harness, count: number, timeoutMs = 10_000) {
  const start = Date.now();
  for (;;) {
    const runs = await h.platform.store.runs.list({});
    if (runs.length >= count) return runs;
    if (Date.now() - start > timeoutMs) throw new Error(`expected ${count} runs, have ${runs.length}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
