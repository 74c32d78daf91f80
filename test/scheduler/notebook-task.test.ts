/**
 * Notebook tasks in a pipeline: parameters templated and typed, the executed notebook kept as an
 * output, cell output in the task log while it runs, a failing cell failing the task.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openHarness, type Harness } from "../support/platform-harness.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function notebook(cells: { source: string; tags?: string[] }[]): string {
  return JSON.stringify({
    cells: cells.map((c, i) => ({ cell_type: "code", execution_count: null, id: `c${i}`, metadata: { tags: c.tags ?? [] }, outputs: [], source: c.source })),
    metadata: { kernelspec: { display_name: "Python 3", language: "python", name: "python3" }, language_info: { name: "python" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

describe("notebook tasks", () => {
  it("runs a parameterised notebook, keeps the executed notebook and streams cell output into the log", async () => {
    harness = await openHarness({});
    writeFileSync(
      join(harness.pipelinesDir, "nb.ipynb"),
      notebook([
        { source: "rate = 0.0\nlabel = 'x'", tags: ["parameters"] },
        { source: "import json, os\nprint(f'rate is {rate!r} for {label}')\njson.dump({'doubled': rate * 2}, open(os.environ['CAPSTAN_OUTPUT'], 'w'))" },
      ]),
    );
    harness.writePipeline(
      "p.yaml",
      `id: nb\nparams: { rate: { type: number, default: 0.25 } }\ntasks:\n  prep: { command: 'echo "{\\"label\\": \\"from-prep\\"}" > "$CAPSTAN_OUTPUT"' }\n  report:\n    notebook: nb.ipynb\n    parameters: { rate: "{{ params.rate }}", label: "{{ tasks.prep.outputs.label }}" }\n    depends_on: [prep]\n`,
    );
    await harness.platform.reloadPipelines();
    const run = await harness.platform.scheduler.trigger("nb");
    expect((await harness.waitForRun(run.id, 120_000)).state).toBe("success");
    const report = await harness.platform.store.tasks.get({ runId: run.id, taskId: "report" });
    expect(report?.outputs?.doubled).toBe(0.5);
    const executed = JSON.parse(readFileSync(String(report?.outputs?.notebook), "utf8")) as { cells: { metadata: { tags: string[] }; source: string[] }[] };
    const injected = executed.cells.find((c) => c.metadata.tags.includes("injected-parameters"));
    expect(injected?.source.join("")).toBe('# Parameters\nrate = 0.25\nlabel = "from-prep"\n');
    const attempt = (await harness.platform.store.attempts.listByTask({ runId: run.id, taskId: "report" }))[0];
    expect(readFileSync(attempt?.logPath ?? "", "utf8")).toContain("rate is 0.25 for from-prep");
  });

  it("fails the task when a cell raises, keeping the notebook with the error", async () => {
    harness = await openHarness({});
    writeFileSync(join(harness.pipelinesDir, "bad.ipynb"), notebook([{ source: "x = 1" }, { source: "raise ValueError('bad data in column price')" }]));
    harness.writePipeline("p.yaml", "id: nbbad\ntasks:\n  report: { notebook: bad.ipynb }\n");
    await harness.platform.reloadPipelines();
    const run = await harness.platform.scheduler.trigger("nbbad");
    expect((await harness.waitForRun(run.id, 120_000)).state).toBe("failed");
    const report = await harness.platform.store.tasks.get({ runId: run.id, taskId: "report" });
    expect(report?.reason).toBe("exit code 1: exception in cell 2 (In [2]): ValueError: bad data in column price");
    const attempt = (await harness.platform.store.attempts.listByTask({ runId: run.id, taskId: "report" }))[0];
    expect(readFileSync(attempt?.logPath ?? "", "utf8")).toContain("ValueError: bad data in column price");
    expect(readFileSync(String(report?.outputs?.notebook), "utf8")).toContain("papermill-error-cell");
  });
});
