/**
 * A scheduler that stops (or dies) while attempts run: the next one adopts what still runs, collects
 * what ended meanwhile, and hands what vanished to the retry policy as lost — never launching the
 * same try twice.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { isProcessAlive } from "../../src/executors/local/process-info.js";
import { Platform } from "../../src/wiring/index.js";
import { openHarness, type Harness } from "../support/platform-harness.js";
import pino from "pino";

const open: Platform[] = [];
let harness: Harness | undefined;
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  await harness?.close();
  harness = undefined;
});

async function reopen(h: Harness): Promise<Platform> {
  const config = loadConfig({ home: h.home, pipelines: [h.pipelinesDir] }, {}, h.dir);
  config.killGraceMs = 2000;
  const platform = await Platform.open({ config, logger: pino({ level: "silent" }) });
  open.push(platform);
  await platform.start();
  return platform;
}

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`not reached in time: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("restarting the scheduler", () => {
  it("adopts an attempt that still runs and records its end", async () => {
    harness = await openHarness({});
    const gate = join(harness.dir, "gate");
    const ledger = join(harness.dir, "ledger");
    harness.writePipeline("p.yaml", `id: p\ntasks:\n  a: { command: 'while [ ! -e "${gate}" ]; do sleep 0.05; done; echo done >> "${ledger}"' }\n  b: { command: "true", depends_on: [a] }\n`);
    await harness.platform.reloadPipelines();
    const paths = { dir: harness.dir, home: harness.home, pipelinesDir: harness.pipelinesDir };
    const run = await harness.platform.scheduler.trigger("p");
    await harness.waitForTask(run.id, "a", ["running"]);
    await harness.close();
    harness = undefined;
    const platform = await reopen(paths as Harness);
    writeFileSync(gate, "");
    const final = await waitFor(() => platform.store.runs.get(run.id), (r) => r?.state === "success");
    expect(final?.state).toBe("success");
    expect(readFileSync(ledger, "utf8")).toBe("done\n");
    expect((await platform.store.attempts.listByTask({ runId: run.id, taskId: "a" })).map((a) => [a.tryNumber, a.state])).toEqual([[1, "success"]]);
  });

  it("collects an attempt that ended while no scheduler ran", async () => {
    harness = await openHarness({ pipelines: { "p.yaml": `id: p\ntasks:\n  a: { command: 'sleep 0.3; echo "{\\"n\\": 7}" > "$CAPSTAN_OUTPUT"' }\n` } });
    const paths = { dir: harness.dir, home: harness.home, pipelinesDir: harness.pipelinesDir };
    const run = await harness.platform.scheduler.trigger("p");
    await harness.waitForTask(run.id, "a", ["running"]);
    await harness.close();
    harness = undefined;
    await new Promise((resolve) => setTimeout(resolve, 800));
    const platform = await reopen(paths as Harness);
    const final = await waitFor(() => platform.store.runs.get(run.id), (r) => r?.state === "success");
    expect(final?.state).toBe("success");
    expect((await platform.store.tasks.get({ runId: run.id, taskId: "a" }))?.outputs).toEqual({ n: 7 });
  });

  it("marks an attempt that vanished lost and retries it under a new try number", async () => {
    harness = await openHarness({ pipelines: { "p.yaml": `id: p\ntasks:\n  a: { command: '[ "$CAPSTAN_TRY" = 1 ] && sleep 600; true', retries: 1, retry_delay: 0s }\n` } });
    const paths = { dir: harness.dir, home: harness.home, pipelinesDir: harness.pipelinesDir };
    const run = await harness.platform.scheduler.trigger("p");
    await harness.waitForTask(run.id, "a", ["running"]);
    const attempt = (await harness.platform.store.attempts.listByTask({ runId: run.id, taskId: "a" }))[0];
    await harness.close();
    harness = undefined;
    process.kill(-(attempt?.pid ?? 0), "SIGKILL");
    await waitFor(() => Promise.resolve(isProcessAlive(attempt?.pid ?? 0, attempt?.pidStart ?? null)), (alive) => !alive);
    const platform = await reopen(paths as Harness);
    const final = await waitFor(() => platform.store.runs.get(run.id), (r) => r?.state === "success");
    expect(final?.state).toBe("success");
    const attempts = await platform.store.attempts.listByTask({ runId: run.id, taskId: "a" });
    expect(attempts.map((a) => [a.tryNumber, a.state])).toEqual([[1, "lost"], [2, "success"]]);
    expect(attempts[0]?.reason).toMatch(/^lost: /);
  });

  it("carries out a cancel asked for while no scheduler ran", async () => {
    harness = await openHarness({ pipelines: { "p.yaml": `id: p\ntasks:\n  a: { command: "sleep 600" }\n` } });
    const paths = { dir: harness.dir, home: harness.home, pipelinesDir: harness.pipelinesDir };
    const run = await harness.platform.scheduler.trigger("p");
    await harness.waitForTask(run.id, "a", ["running"]);
    const attempt = (await harness.platform.store.attempts.listByTask({ runId: run.id, taskId: "a" }))[0];
    await harness.close();
    harness = undefined;
    // A platform that is not started (what `capstan cancel` does with no `capstan up`) only records the cancel.
    const config = loadConfig({ home: paths.home, pipelines: [paths.pipelinesDir] }, {}, paths.dir);
    const offline = await Platform.open({ config, logger: pino({ level: "silent" }) });
    await offline.scheduler.cancel(run.id);
    await offline.close();
    expect(isProcessAlive(attempt?.pid ?? 0, attempt?.pidStart ?? null)).toBe(true);
    await reopen(paths as Harness);
    await waitFor(() => Promise.resolve(isProcessAlive(attempt?.pid ?? 0, attempt?.pidStart ?? null)), (alive) => !alive);
  });
});
