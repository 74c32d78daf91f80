/**
 * A pipeline param declared `type: number` reaches a notebook as a float even when it is whole
 * (`1.0`, as papermill gives it), and an `integer` param stays an int.
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

const NOTEBOOK = JSON.stringify({
  cells: [
    { cell_type: "code", execution_count: null, id: "p", metadata: { tags: ["parameters"] }, outputs: [], source: "rate = 0.5\ncount = 0\nnested = {}" },
    { cell_type: "code", execution_count: null, id: "r", metadata: { tags: [] }, outputs: [], source: "print(f'rate={rate!r}:{type(rate).__name__} count={count!r}:{type(count).__name__} nested={nested!r}')" },
  ],
  metadata: { kernelspec: { display_name: "Python 3", language: "python", name: "python3" }, language_info: { name: "python" } },
  nbformat: 4,
  nbformat_minor: 5,
});

describe("number params in notebook tasks", () => {
  it("passes a whole number param as the float 1.0 and an integer param as an int", async () => {
    const h = (harness = await openHarness({}));
    writeFileSync(join(h.pipelinesDir, "nb.ipynb"), NOTEBOOK);
    h.writePipeline(
      "p.yaml",
      `id: nbfloat
params:
  rate: { type: number, default: 1.0 }
  count: { type: integer, default: 3 }
tasks:
  report:
    notebook: nb.ipynb
    parameters: { rate: "{{ params.rate }}", count: "{{ params.count }}", nested: { r: ["{{ params.rate }}"], c: "{{ params.count }}" } }
`,
    );
    await h.platform.reloadPipelines();
    const run = await h.platform.scheduler.trigger("nbfloat", { params: { rate: 2 } });
    expect((await h.waitForRun(run.id, 120_000)).state).toBe("success");
    const report = await h.platform.store.tasks.get({ runId: run.id, taskId: "report" });
    const executed = JSON.parse(readFileSync(String(report?.outputs?.notebook), "utf8")) as { cells: { metadata: { tags: string[] }; source: string[] }[] };
    const injected = executed.cells.find((c) => c.metadata.tags.includes("injected-parameters"));
    expect(injected?.source.join("")).toBe('# Parameters\nrate = 2.0\ncount = 3\nnested = {"r": [2.0], "c": 3}\n');
    const attempt = (await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "report" }))[0];
    expect(readFileSync(attempt?.logPath ?? "", "utf8")).toContain("rate=2.0:float count=3:int nested={'r': [2.0], 'c': 3}");
  });
});
