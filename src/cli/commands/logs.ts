/** `capstan logs RUN TASK [-f]`: a task attempt's output, followed live with -f. */
import type { Command } from "commander";
import { ClientError } from "../errors.js";
import { withClient } from "../context.js";

export function registerLogCommands(program: Command): void {
  program
    .command("logs <run> <task>")
    .description("print a task's log (the latest try unless --try); -f follows it until the attempt ends")
    .option("-f, --follow", "keep printing as the log grows, until the attempt ends", false)
    .option("--try <n>", "which try")
    .action(async (runId: string, taskId: string, opts: { follow: boolean; try?: string }, command: Command) => {
      const tryNumber = opts.try === undefined ? undefined : Number(opts.try);
      if (tryNumber !== undefined && (!Number.isInteger(tryNumber) || tryNumber < 1)) throw new ClientError(`--try ${opts.try}: expected a whole number ≥ 1`);
      await withClient(command, async (client) => {
        let offset = 0;
        let pinned = tryNumber;
        for (;;) {
          const chunk = await client.readLog(runId, taskId, pinned, offset);
          if (chunk.text) process.stdout.write(chunk.text);
          offset = chunk.next;
          if (chunk.try > 0) pinned = chunk.try;
          if (chunk.text) continue; // read on until the end of what is there now
          if (!opts.follow) return;
          if (chunk.done || chunk.try === 0) {
            const task = await client.getTask(runId, taskId);
            if (tryNumber === undefined && task.tries > chunk.try) {
              // A retry started: follow it too.
              if (chunk.try > 0) process.stderr.write(`--- try ${task.tries} ---\n`);
              pinned = task.tries;
              offset = 0;
              continue;
            }
            const waiting = ["up_for_retry", "scheduled", "queued", "running", "none"].includes(task.state);
            if (!waiting && (chunk.done || task.tries === 0)) return;
            if (tryNumber !== undefined && chunk.done) return;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      });
    });
}
