/**
 * The reference pipeline end to end at size small through the real scheduler, local executor and
 * notebook runner: it must succeed, reach precision@10 ≥ 0.8 and beat both baselines.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/build.js";
import { openHarness, tempDir, type Harness } from "../support/platform-harness.js";

let harness: Harness | undefined;
afterAll(async () => {
  await harness?.close();
});

describe("the similar-users reference pipeline", () => {
  it("runs at size small and meets its evaluation thresholds", { timeout: 600_000 }, async () => {
    harness = await openHarness({ configure: (c) => (c.pipelines = [join(REPO_ROOT, "examples", "similar-users")]) });
    const results = tempDir("capstan-similar-users-");
    const run = await harness.platform.scheduler.trigger("similar-users", { params: { size: "small", results_dir: results } });
    const done = await harness.waitForRun(run.id, 540_000);
    const tasks = await harness.platform.store.tasks.listByRun(run.id);
    const byId = Object.fromEntries(tasks.map((t) => [t.taskId, t]));
    expect(done.state, JSON.stringify(Object.fromEntries(tasks.map((t) => [t.taskId, [t.state, t.reason]])))).toBe("success");

    const evaluation = byId.evaluate?.outputs ?? {};
    expect(evaluation.precision_at_k).toBeGreaterThanOrEqual(0.8);
    expect(evaluation.precision_at_k as number).toBeGreaterThan(evaluation.raw_counts_precision_at_k as number);
    expect(evaluation.precision_at_k as number).toBeGreaterThan(evaluation.random_precision_at_k as number);

    // The notebook stages kept their executed notebooks, and their cell output reached the task log.
    for (const stage of ["datamart", "features"]) {
      const notebook = byId[stage]?.outputs?.notebook;
      expect(typeof notebook === "string" && existsSync(notebook), `${stage} output notebook`).toBe(true);
      const attempt = (await harness.platform.store.attempts.listByTask({ runId: run.id, taskId: stage }))[0];
      expect(readFileSync(attempt?.logPath ?? "", "utf8").length).toBeGreaterThan(0);
    }

    // Publish wrote a version folder and moved the latest pointer to it.
    const published = byId.publish?.outputs ?? {};
    expect(existsSync(join(results, "latest"))).toBe(true);
    expect(String(published.version_dir)).toContain(results);
  });
});
