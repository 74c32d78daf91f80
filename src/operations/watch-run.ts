/** Following a run to its end in the process that schedules it: each change of the run is read back as a view. */
import type { EventEmitter } from "node:events";
import { loadRunView, type RunView } from "./views.js";
import type { StateChange } from "../scheduler/index.js";
import { isFinishedRun, type Store } from "../store/index.js";

/**
 * Resolves when the run has finished; `onUpdate` sees the run after each burst of its changes
 * (and once at the start). `events` is the scheduler's change feed.
 */
export function watchRun(store: Store, events: EventEmitter<{ change: [StateChange] }>, runId: string, onUpdate: (view: RunView) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let pending = false;
    const refresh = () => {
      if (pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        loadRunView(store, runId).then((view) => {
          if (!view) return;
          onUpdate(view);
          if (isFinishedRun(view.state)) {
            events.off("change", listener);
            resolve();
          }
        }, (error: unknown) => {
          events.off("change", listener);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
      });
    };
    const listener = (change: StateChange) => {
      if (change.runId === runId) refresh();
    };
    events.on("change", listener);
    refresh();
  });
}
