/** `capstan runs list|show`, `capstan clear`, `capstan cancel`, `capstan mark`. */
import type { Command } from "commander";
import { RUN_STATES, type RunState } from "../../store/states.js";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { elapsed, shortTime } from "../format.js";
import { printJson, printTable } from "../output.js";

export function registerRunsCommands(program: Command): void {
  const runs = program.command("runs").description("list and inspect runs");

  runs
    .command("list")
    .description("runs, newest logical date first")
    .option("--pipeline <id>", "only this pipeline's runs")
    .option("--state <state>", `only runs in this state (${RUN_STATES.join(", ")})`)
    .option("--limit <n>", "how many", "20")
    .action(async (opts: { pipeline?: string; state?: string; limit: string }, command: Command) => {
      if (opts.state !== undefined && !RUN_STATES.includes(opts.state as RunState)) throw new ClientError(`--state ${opts.state}: expected one of ${RUN_STATES.join(", ")}`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new ClientError(`--limit ${opts.limit}: expected a whole number ≥ 1`);
      await withClient(command, async (client) => {
        const { total, runs: list } = await client.listRuns({ ...(opts.pipeline ? { pipeline: opts.pipeline } : {}), ...(opts.state ? { state: opts.state as RunState } : {}), limit });
        if (globalOptions(command).json) {
          printJson({ total, runs: list });
          return;
        }
        printTable(
          ["RUN", "PIPELINE", "STATE", "TRIGGER", "LOGICAL DATE", "TASKS OK", "DURATION"],
          list.map((r) => {
            const tasks = Object.values(r.tasks);
            return [r.id, r.pipeline, r.state, r.trigger, shortTime(r.logical_date), `${tasks.filter((t) => t.state === "success").length}/${tasks.length}`, elapsed(r.started_at, r.ended_at)];
          }),
        );
        if (total > list.length) process.stderr.write(`${list.length} of ${total} runs shown (--limit)\n`);
      });
    });

  runs
    .command("show <run>")
    .description("a run with the state and tries of each task (--json: { id, state, tasks: { ID: { state, tries } } })")
    .action(async (runId: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const view = await client.getRun(runId);
        if (globalOptions(command).json) {
          printJson(view);
          return;
        }
        process.stdout.write(`run ${view.id} of ${view.pipeline} (version ${view.version.slice(0, 8)}): ${view.state}\n`);
        process.stdout.write(`trigger ${view.trigger}, logical date ${shortTime(view.logical_date)}, data interval ${shortTime(view.data_interval_start)} – ${shortTime(view.data_interval_end)}\n`);
        if (Object.keys(view.params).length > 0) process.stdout.write(`params ${JSON.stringify(view.params)}\n`);
        process.stdout.write("\n");
        printTable(
          ["TASK", "STATE", "TRIES", "STARTED", "DURATION", "REASON"],
          Object.entries(view.tasks).map(([id, t]) => [id, t.state, t.tries, shortTime(t.started_at), elapsed(t.started_at, t.ended_at), t.reason ?? ""]),
        );
      });
    });

  program
    .command("clear <run> <task>")
    .description("run a task again (with fresh retries); --downstream clears everything after it too")
    .option("--downstream", "also clear the tasks downstream of it", false)
    .action(async (runId: string, taskId: string, opts: { downstream: boolean }, command: Command) => {
      await withClient(command, async (client) => {
        const cleared = await client.clear(runId, taskId, opts.downstream);
        if (globalOptions(command).json) printJson({ cleared });
        else process.stdout.write(`cleared ${cleared.join(", ")}${client.mode === "in-process" ? " (they run when `capstan up` starts)" : ""}\n`);
      });
    });

  program
    .command("cancel <run>")
    .description("cancel a run: running attempts are killed, unfinished tasks cancelled")
    .action(async (runId: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const view = await client.cancel(runId);
        if (globalOptions(command).json) printJson(view);
        else process.stdout.write(`run ${view.id}: ${view.state}\n`);
      });
    });

  program
    .command("mark <run> <task> <state>")
    .description("set a task to success or failed by hand (a running attempt is killed)")
    .action(async (runId: string, taskId: string, state: string, _opts: unknown, command: Command) => {
      if (state !== "success" && state !== "failed") throw new ClientError(`state ${JSON.stringify(state)}: expected success or failed`);
      await withClient(command, async (client) => {
        const view = await client.mark(runId, taskId, state);
        if (globalOptions(command).json) printJson(view);
        else process.stdout.write(`${taskId}: ${view.state}\n`);
      });
    });
}
