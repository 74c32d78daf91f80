/**
 * Validating large pipeline files: a generated file of 20,000 tasks (a 10,000-task chain whose
 * tasks read their upstream's outputs, and a fan-out of 9,998 tasks into a join) loads with every
 * task in a topological order, and problems in it are found and placed. Timing is in
 * bench/pipelines/validate.ts.
 */
import { describe, expect, it } from "vitest";
import { loadYamlPipeline, PipelineFileError } from "../../src/pipelines/index.js";
import { largePipelineTaskCount, largePipelineYaml } from "../support/large-pipeline.js";

const SIZE = 20_000;

function refusal(text: string): PipelineFileError {
  try {
    loadYamlPipeline("large.yaml", text);
  } catch (error) {
    if (error instanceof PipelineFileError) return error;
    throw error;
  }
  throw new Error("expected the file to be refused");
}

// Generous limits: the machine running the suite may be busy; the figures are in the benchmark.
describe("a 20,000-task pipeline file", { timeout: 180_000 }, () => {
  it("validates, with every task after its upstreams", () => {
    const spec = loadYamlPipeline("large.yaml", largePipelineYaml(SIZE));
    expect(spec.taskOrder).toHaveLength(largePipelineTaskCount(SIZE));
    expect(Object.keys(spec.tasks)).toHaveLength(SIZE);
    const position = new Map(spec.taskOrder.map((id, i) => [id, i]));
    for (const task of Object.values(spec.tasks)) {
      for (const up of task.dependsOn) expect(position.get(up) ?? Infinity).toBeLessThan(position.get(task.id) ?? -1);
    }
    expect(spec.tasks.join?.dependsOn).toHaveLength(SIZE - 10_000 - 2);
    expect(spec.tasks.c9999?.dependsOn).toEqual(["c9998"]);
    expect(spec.tasks.c9999?.command).toBe('echo "{{ tasks.c9998.outputs.path }}"');
  });

  it("finds a cycle through the whole chain and names its ends", () => {
    const text = largePipelineYaml(SIZE).replace('  c0: { command: ["echo", "{{ ds }}"],', '  c0: { depends_on: [c9999], command: ["echo", "{{ ds }}"],');
    const [issue, ...rest] = refusal(text).issues;
    expect(rest).toEqual([]);
    expect(issue?.line).toBe(5);
    expect(issue?.message).toMatch(/^dependency cycle: c0 → c1 → .* → c9 → … 9980 more … → c9990 → .* → c9999 → c0$/);
  });

  it("places problems deep in the file on their lines", () => {
    const lines = largePipelineYaml(SIZE).split("\n");
    const at = lines.findIndex((line) => line.startsWith("  f9000:"));
    lines[at] = "  f9000: { command: [echo, '{{ tasks.c5.outputs.path }}'], depends_on: [root, nope] }";
    const issues = refusal(lines.join("\n")).issues;
    expect(issues.map((i) => [i.line, i.message])).toEqual([
      [at + 1, expect.stringMatching(/^unknown upstream task "nope"; tasks in this pipeline: c0, c1, .*, c19 and 19980 more$/)],
      [at + 1, expect.stringMatching(/^task f9000: \{\{ tasks\.c5\.outputs\.path \}\}: "c5" is not upstream of this task/)],
    ]);
    lines[at] = "  f9000: { command: [echo, '{{ tasks.c5.outputs.path }}'], depends_on: [root] }";
    const [template] = refusal(lines.join("\n")).issues;
    expect(template?.line).toBe(at + 1);
    expect(template?.message).toBe('task f9000: {{ tasks.c5.outputs.path }}: "c5" is not upstream of this task, so its outputs are not ready when it runs; upstream tasks: root');
  });
});
