/** `capstan pipelines list|show|validate`. */
import type { Command } from "commander";
import { configFrom, globalOptions, withClient } from "../context.js";
import { printJson, printTable } from "../output.js";

export function registerPipelineCommands(program: Command): void {
  const pipelines = program.command("pipelines").description("list, show and validate pipeline files");

  pipelines
    .command("list")
    .description("pipelines with their schedule and recent runs; files that failed to load are listed after them")
    .action(async (_opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const { pipelines: list, errors } = await client.listPipelines();
        if (globalOptions(command).json) {
          printJson({ pipelines: list, errors });
          return;
        }
        printTable(
          ["PIPELINE", "SCHEDULE", "TASKS", "VERSION", "RECENT RUNS (newest first)"],
          list.map((p) => [p.id, p.schedule ?? "manual", p.tasks, p.version.slice(0, 8), p.last_runs.map((r) => r.state).join(" ") || "-"]),
        );
        for (const error of errors) process.stderr.write(`\nfailed to load ${error.file}:\n${error.message}\n`);
      });
    });

  pipelines
    .command("show <pipeline>")
    .description("a pipeline's tasks, dependencies and settings (--json prints the validated spec)")
    .action(async (id: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const detail = await client.getPipeline(id);
        if (globalOptions(command).json) {
          printJson(detail);
          return;
        }
        const spec = detail.spec;
        const { formatMemory } = await import("../../units/index.js");
        process.stdout.write(`${spec.id}${spec.description ? ` — ${spec.description}` : ""}\n`);
        process.stdout.write(`file: ${detail.file}\nversion: ${detail.version}\nteam: ${spec.team}\n`);
        process.stdout.write(`schedule: ${spec.schedule?.text ?? "manual only"} (${spec.timezone})${spec.schedule ? `, catchup ${spec.catchup ? "on" : "off"}` : ""}\n`);
        process.stdout.write(`max active runs: ${spec.maxActiveRuns}, max active tasks: ${spec.maxActiveTasks}\n`);
        const params = Object.entries(spec.params);
        if (params.length > 0) {
          process.stdout.write("params:\n");
          for (const [name, p] of params) process.stdout.write(`  ${name}: ${p.type}${p.default !== undefined ? ` = ${JSON.stringify(p.default)}` : " (required)"}${p.description ? ` — ${p.description}` : ""}\n`);
        }
        process.stdout.write("\n");
        printTable(
          ["TASK", "KIND", "DEPENDS ON", "TRIGGER RULE", "RETRIES", "RESOURCES", "POOL"],
          spec.taskOrder.map((taskId) => {
            const t = spec.tasks[taskId];
            if (!t) return [taskId];
            const res = [t.resources.cpu ? `cpu ${t.resources.cpu}` : "", t.resources.memory ? `mem ${formatMemory(t.resources.memory)}` : "", t.resources.gpu ? `gpu ${t.resources.gpu}` : ""].filter(Boolean).join(", ");
            return [taskId, t.kind, t.dependsOn.join(", ") || "-", t.triggerRule, t.retries, res || "-", t.pool];
          }),
        );
      });
    });

  pipelines
    .command("validate [files...]")
    .description("check pipeline files (default: every file in the pipeline folders); exits 1 when any is invalid")
    .action(async (files: string[], _opts: unknown, command: Command) => {
      const config = await configFrom(command);
      const { PipelineRegistry } = await import("../../pipelines/index.js");
      const registry = new PipelineRegistry({ paths: files.length > 0 ? files : config.pipelines, loadTimeoutMs: config.pipelineLoadTimeoutMs });
      await registry.load();
      const errors = registry.errors();
      const valid = registry.list();
      if (globalOptions(command).json) {
        printJson({ valid: valid.map((p) => ({ id: p.spec.id, file: p.file, version: p.version })), errors: errors.map((e) => ({ file: e.file, issues: e.issues })) });
      } else {
        for (const p of valid) process.stdout.write(`ok      ${p.file} (${p.spec.id}, ${p.spec.taskOrder.length} tasks)\n`);
        for (const e of errors) process.stderr.write(`${e.message}\n`);
        if (valid.length === 0 && errors.length === 0) process.stderr.write(`no pipeline files found in ${(files.length > 0 ? files : config.pipelines).join(", ")}\n`);
      }
      process.exitCode = errors.length > 0 ? 1 : 0;
    });
}
