/**
 * The reference pipeline's Spark variant (examples/similar-users/pipeline-spark.yaml) end to end at
 * size small through the real scheduler and local executor: its datamart is a `spark:` task that
 * spark-submits datamart_spark.py with the venv's pyspark, and the later stages read the table it
 * wrote. The run must succeed and meet the same evaluation thresholds as the pandas pipeline.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/build.js";
import { openHarness, tempDir, type Harness } from "../support/platform-harness.js";

let harness: Harness | undefined;
afterAll(async () => {
  await harness?.close();
});

describe("the similar-users reference pipeline with a Spark datamart", () => {
  it("runs at size small, its datamart in Spark, and meets its evaluation thresholds", { timeout: 600_000 }, async () => {
    harness = await openHarness({ configure: (c) => (c.pipelines = [join(REPO_ROOT, "examples", "similar-users", "pipeline-spark.yaml")]) });
    const results = tempDir("capstan-similar-users-spark-");
    const run = await harness.platform.scheduler.trigger("similar-users-spark", { params: { size: "small", results_dir: results } });
    const done = await harness.waitForRun(run.id, 540_000);
    const tasks = await harness.platform.store.tasks.listByRun(run.id);
    const byId = Object.fromEntries(tasks.map((t) => [t.taskId, t]));
    expect(done.state, JSON.stringify(Object.fromEntries(tasks.map((t) => [t.taskId, [t.state, t.reason]])))).toBe("success");

    // The datamart ran in Spark (local master) and aggregated every generated visit into one Parquet file.
    const datamart = byId.datamart?.outputs ?? {};
    expect(String(datamart.spark_master)).toMatch(/^local/);
    expect(datamart.visits).toBe(byId.datasource?.outputs?.visits);
    expect(datamart.users).toBe(5_000);
    expect(existsSync(String(datamart.table_path))).toBe(true);

    // The stages after it took its table as they take the notebook's.
    const features = byId.features?.outputs ?? {};
    expect(Number(features.users) + Number(features.dropped_users)).toBe(datamart.users);
    const evaluation = byId.evaluate?.outputs ?? {};
    expect(evaluation.precision_at_k).toBeGreaterThanOrEqual(0.8);
    expect(evaluation.precision_at_k as number).toBeGreaterThan(evaluation.raw_counts_precision_at_k as number);
    expect(existsSync(join(results, "latest"))).toBe(true);
  });
});
