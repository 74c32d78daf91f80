/**
 * Validation benchmark: loads generated YAML pipeline files of 10k, 50k and 100k tasks (a long
 * chain whose tasks read their upstream's outputs through templates, and a wide fan-out into a
 * join) and prints the time and tasks per second of each. Linear validation keeps tasks/s flat.
 *
 *   npx tsx bench/pipelines/validate.ts [SIZES…]
 */
import { loadYamlPipeline } from "../../src/pipelines/index.js";
import { largePipelineTaskCount, largePipelineYaml } from "../../test/support/large-pipeline.js";

const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
for (const size of sizes.length > 0 ? sizes : [10_000, 50_000, 100_000]) {
  const text = largePipelineYaml(size);
  const tasks = largePipelineTaskCount(size);
  const start = performance.now();
  const spec = loadYamlPipeline("large.yaml", text);
  const seconds = (performance.now() - start) / 1000;
  if (spec.taskOrder.length !== tasks) throw new Error(`expected ${tasks} tasks, got ${spec.taskOrder.length}`);
  console.log(`${String(tasks).padStart(7)} tasks  ${seconds.toFixed(2).padStart(6)} s  ${Math.round(tasks / seconds).toLocaleString("en-US").padStart(8)} tasks/s`);
}
