/**
 * Two schedulers sharing one PostgreSQL database work the same run: every task runs exactly once
 * and no try is launched twice, whichever scheduler launched it.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { Platform } from "../../src/wiring/index.js";
import type { StateChange } from "../../src/scheduler/index.js";
import { tempDir } from "../support/platform-harness.js";
import { createTestDatabase } from "../support/postgres.js";

const platforms: Platform[] = [];
afterEach(async () => {
  for (const p of platforms.splice(0)) await p.close();
});

describe("two schedulers on PostgreSQL", () => {
  it("share a 60-task run without running any task twice", { timeout: 180_000 }, async () => {
    const dir = tempDir("capstan-two-");
    const pipelines = join(dir, "pipelines");
    const ledger = join(dir, "ledger");
    (await import("node:fs")).mkdirSync(pipelines);
    writeFileSync(ledger, "");
    chmodSync(ledger, 0o666); // tasks append to it, as nobody when the tests run as root
    const lines = ["id: shared", "max_active_tasks: 8", "tasks:"];
    for (let i = 0; i < 60; i++) {
      const deps = i >= 10 ? `, depends_on: [t${i - 10}]` : "";
      lines.push(`  t${i}: { command: 'sleep 0.0$((RANDOM % 5)); echo "$CAPSTAN_TASK_ID $CAPSTAN_TRY" >> "${ledger}"'${deps} }`);
    }
    writeFileSync(join(pipelines, "shared.yaml"), `${lines.join("\n")}\n`);
    const url = await createTestDatabase();
    for (const name of ["a", "b"]) {
      const config = loadConfig({ home: join(dir, name), pipelines: [pipelines], databaseUrl: url }, {}, dir);
      config.sweepIntervalMs = 200;
      const platform = await Platform.open({ config, logger: pino({ level: "silent" }) });
      platforms.push(platform);
      await platform.start();
    }
    const [a, b] = platforms as [Platform, Platform];
    const run = await a.scheduler.trigger("shared");
    b.scheduler.wake();
    const deadline = Date.now() + 150_000;
    for (;;) {
      const current = await a.store.runs.get(run.id);
      if (current?.state === "success" || current?.state === "failed") break;
      if (Date.now() > deadline) throw new Error("the run did not finish");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await a.store.runs.get(run.id))?.state).toBe("success");
    const entries = readFileSync(ledger, "utf8").trim().split("\n");
    expect(entries).toHaveLength(60);
    expect(new Set(entries.map((e) => e.split(" ")[0])).size).toBe(60);
    const attempts = await a.store.attempts.listByRun(run.id);
    expect(attempts).toHaveLength(60);
    const bySchedulers = new Set(attempts.map((x) => x.schedulerId));
    expect(bySchedulers.size, "both schedulers launched tasks").toBe(2);
  });

  it("hear each other's changes at once: a run triggered elsewhere starts before any sweep, and every replica's live views see it end", { timeout: 120_000 }, async () => {
    const dir = tempDir("capstan-feed-");
    const pipelines = join(dir, "pipelines");
    (await import("node:fs")).mkdirSync(pipelines);
    writeFileSync(join(pipelines, "quick.yaml"), "id: quick\ntasks:\n  a: { command: 'echo a' }\n  b: { command: 'echo b', depends_on: [a] }\n");
    const url = await createTestDatabase();
    const open = async (name: string, start: boolean) => {
      const config = loadConfig({ home: join(dir, name), pipelines: [pipelines], databaseUrl: url }, {}, dir);
      // Sweeps would find the run only after ten minutes: anything sooner is the change feed.
      config.sweepIntervalMs = 600_000;
      const platform = await Platform.open({ config, logger: pino({ level: "silent" }) });
      platforms.push(platform);
      if (start) await platform.start();
      return platform;
    };
    const [b, c] = [await open("b", true), await open("c", true)];
    const seen = { b: [] as string[], c: [] as string[] };
    b.scheduler.events.on("change", (change: StateChange) => seen.b.push(`${change.kind} ${change.state}`));
    c.scheduler.events.on("change", (change: StateChange) => seen.c.push(`${change.kind} ${change.state}`));
    // A process that writes but does not schedule, as \`capstan run\` without --wait does.
    const writer = await open("writer", false);
    const started = Date.now();
    const run = await writer.scheduler.trigger("quick");
    for (;;) {
      const current = await writer.store.runs.get(run.id);
      if (current?.state === "success" || current?.state === "failed") break;
      if (Date.now() - started > 60_000) throw new Error("no scheduler picked the run up");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await writer.store.runs.get(run.id))?.state).toBe("success");
    for (const replica of ["b", "c"] as const) {
      await expect.poll(() => seen[replica], { timeout: 10_000 }).toContain("run success");
      expect(seen[replica]).toContain("task success");
    }
  });
});
