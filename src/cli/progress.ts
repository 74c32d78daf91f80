/** The live progress view of a run on a terminal: done/total, running, failed. */
import cliProgress from "cli-progress";
import type { RunView } from "../operations/index.js";

const DONE = new Set(["success", "failed", "skipped", "upstream_failed", "cancelled"]);

export interface RunProgress {
  update(view: RunView): void;
  stop(): void;
}

/** A progress bar on stderr when it is a terminal; otherwise nothing is drawn. */
export function runProgress(enabled: boolean): RunProgress {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: "{run} |{bar}| {value}/{total} done · {running} running · {failed} failed · {duration_formatted}",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(view) {
      const states = Object.values(view.tasks).map((t) => t.state);
      const payload = {
        run: view.id,
        running: states.filter((s) => s === "running" || s === "queued").length,
        failed: states.filter((s) => s === "failed" || s === "upstream_failed").length,
      };
      const done = states.filter((s) => DONE.has(s)).length;
      if (!started) {
        bar.start(states.length, done, payload);
        started = true;
      } else {
        bar.setTotal(states.length);
        bar.update(done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
