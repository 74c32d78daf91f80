/**
 * A large generated pipeline file in YAML, for the validation benchmark and its test: a long chain
 * (each task reads its upstream's output through a template) and a wide fan-out from one root
 * into a join, with a param and a templated env value on every task.
 */

/** The YAML text of a pipeline with about `tasks` tasks: half in a chain, half fanned out. */
export function largePipelineYaml(tasks: number): string {
  const chain = Math.max(2, Math.floor(tasks / 2));
  const fan = Math.max(1, tasks - chain - 2);
  const lines = ["id: large", "params:", "  rate: { type: number, default: 0.5 }", "tasks:"];
  lines.push(`  c0: { command: ["echo", "{{ ds }}"], env: { RATE: "{{ params.rate }}" } }`);
  for (let i = 1; i < chain; i++) {
    lines.push(`  c${i}: { command: 'echo "{{ tasks.c${i - 1}.outputs.path }}"', depends_on: [c${i - 1}], env: { RATE: "{{ params.rate }}" } }`);
  }
  lines.push(`  root: { command: "true" }`);
  for (let i = 0; i < fan; i++) lines.push(`  f${i}: { command: ["echo", "{{ tasks.root.outputs.x }}", "{{ params.rate }}"], depends_on: [root] }`);
  lines.push(`  join:`, `    command: "true"`, `    depends_on:`);
  for (let i = 0; i < fan; i++) lines.push(`      - f${i}`);
  return `${lines.join("\n")}\n`;
}

/** How many tasks largePipelineYaml(tasks) makes. */
export function largePipelineTaskCount(tasks: number): number {
  const chain = Math.max(2, Math.floor(tasks / 2));
  const fan = Math.max(1, tasks - chain - 2);
  return chain + fan + 2;
}
