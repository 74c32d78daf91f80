/** `capstan run` and `capstan backfill`: create runs, optionally wait for them with a live view. */
import type { Command } from "commander";

import type { RunView } from "../../operations/index.js";
import type { CapstanClient } from "../client.js";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { elapsed } from "../format.js";
import { printJson, printTable } from "../output.js";
import { runProgress } from "../progress.js";

const collect = (value: string, previous: string[]) => [...previous, value];

/** Parses a date given on the command line (YYYY-MM-DD or ISO), in UTC unless it carries an offset. */
export async function parseCliDate(text: string, flag: string): Promise<string> {
  const { DateTime } = await import("luxon");
  const parsed = DateTime.fromISO(text, { zone: "utc" });
  if (!parsed.isValid) throw new ClientError(`${flag} ${JSON.stringify(text)} is not a date; write YYYY-MM-DD or an ISO date-time such as 2026-01-01T03:00:00Z`);
  return parsed.toUTC().toISO() ?? text;
}

/** The compact summary printed for humans when a run ends. */
function printRunSummary(view: RunView): void {
  printTable(
    ["TASK", "STATE", "TRIES", "DURATION", "REASON"],
    Object.entries(view.tasks).map(([id, t]) => [id, t.state, t.tries, elapsed(t.started_at, t.ended_at), t.reason ?? ""]),
  );
  process.stdout.write(`run ${view.id}: ${view.state} in ${elapsed(view.started_at ?? view.created_at, view.ended_at)}\n`);
}

/** The JSON object of the scripting contract: { id, state, tasks: { ID: { state, tries } } } and more. */
export function runJson(view: RunView): RunView {
  return view;
}

async function waitAndReport(client: CapstanClient, view: RunView, json: boolean): Promise<number> {
  // The progress view goes to stderr, so it shows on a terminal even when stdout carries --json.
  const progress = runProgress(true);
  if (client.mode === "in-process" && !json) process.stderr.write(`no capstan up runs against this home; running ${view.id} here\n`);
  let final: RunView;
  try {
    final = await client.waitForRun(view.id, (update) => progress.update(update));
  } finally {
    progress.stop();
  }
  if (json) printJson(runJson(final));
  else printRunSummary(final);
  return final.state === "success" ? 0 : 1;
}

export function registerRunCommands(program: Command): void {
  program
    .command("run <pipeline>")
    .description("trigger a run; with --wait, follow it to the end (exit 0 on success, 1 otherwise)")
    .option("-p, --param <name=value>", "a param value, converted to the declared type (repeatable)", collect, [])
    .option("--wait", "wait for the run to finish, showing progress on a terminal", false)
    .option("--logical-date <date>", "the run's logical date (default: now)")
    .option("--note <text>", "a note kept with the run")
    .action(async (pipelineId: string, opts: { param: string[]; wait: boolean; logicalDate?: string; note?: string }, command: Command) => {
      const json = globalOptions(command).json;
      process.exitCode = await withClient(command, async (client) => {
        const pipeline = await client.getPipeline(pipelineId);
        const { typedParams } = await import("../client.js");
        const params = typedParams(pipeline.spec, opts.param);
        const view = await client.trigger(pipelineId, params, {
          ...(opts.logicalDate ? { logicalDate: await parseCliDate(opts.logicalDate, "--logical-date") } : {}),
          ...(opts.note ? { note: opts.note } : {}),
        });
        if (opts.wait) return waitAndReport(client, view, json);
        if (json) printJson(runJson(view));
        else {
          process.stdout.write(`${view.id}\n`);
          if (client.mode === "in-process") process.stderr.write("no scheduler runs against this home: the run is queued until `capstan up` starts (or use --wait to run it here)\n");
        }
        return 0;
      });
    });

  program
    .command("backfill <pipeline>")
    .description("create a run for every data interval whose logical date is in [--from, --to]")
    .requiredOption("--from <date>", "first logical date (YYYY-MM-DD or ISO)")
    .requiredOption("--to <date>", "last logical date (YYYY-MM-DD or ISO)")
    .option("-p, --param <name=value>", "a param value for every run (repeatable)", collect, [])
    .option("--wait", "wait for all the runs to finish", false)
    .action(async (pipelineId: string, opts: { from: string; to: string; param: string[]; wait: boolean }, command: Command) => {
      const json = globalOptions(command).json;
      process.exitCode = await withClient(command, async (client) => {
        const pipeline = await client.getPipeline(pipelineId);
        const { typedParams } = await import("../client.js");
        const params = typedParams(pipeline.spec, opts.param);
        const result = await client.backfill(pipelineId, await parseCliDate(opts.from, "--from"), await parseCliDate(opts.to, "--to"), params);
        if (!opts.wait) {
          if (json) printJson(result);
          else {
            for (const id of result.created) process.stdout.write(`${id}\n`);
            if (result.existing.length > 0) process.stderr.write(`already had runs, left alone: ${result.existing.join(", ")}\n`);
          }
          return 0;
        }
        const finals: RunView[] = [];
        for (const id of result.created) finals.push(await client.waitForRun(id, () => undefined));
        if (json) printJson({ ...result, runs: finals });
        else printTable(["RUN", "LOGICAL DATE", "STATE"], finals.map((r) => [r.id, r.logical_date, r.state]));
        return finals.every((r) => r.state === "success") ? 0 : 1;
      });
    });
}
