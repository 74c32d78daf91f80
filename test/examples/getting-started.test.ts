/**
 * The getting-started example end to end through the real scheduler and local executor: the fan-out,
 * outputs passed downstream (into a shell's $(( … )) too) and the param.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/build.js";
import { openHarness, type Harness } from "../support/platform-harness.js";

let harness: Harness | undefined;
afterAll(async () => {
  await harness?.close();
});

describe("the getting-started example", () => {
  it("counts the words of every part and sums them", { timeout: 120_000 }, async () => {
    harness = await openHarness({ configure: (c) => (c.pipelines = [join(REPO_ROOT, "examples", "getting-started")]) });
    const run = await harness.platform.scheduler.trigger("getting-started", { params: { lines: 7 } });
    const done = await harness.waitForRun(run.id, 100_000);
    const tasks = await harness.platform.store.tasks.listByRun(run.id);
    expect(done.state, JSON.stringify(Object.fromEntries(tasks.map((t) => [t.taskId, [t.state, t.reason]])))).toBe("success");
    const words = Object.fromEntries(tasks.map((t) => [t.taskId, t.outputs?.words]));
    expect(words).toMatchObject({ count_a: 14, count_b: 14, count_c: 14 });
    const attempt = await harness.platform.store.attempts.get({ runId: run.id, taskId: "total", tryNumber: 1 });
    expect(readFileSync(attempt?.logPath ?? "", "utf8")).toMatch(/^total words for \d{4}-\d{2}-\d{2}: 42$/m);
  });
});
