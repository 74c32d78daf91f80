/** Colours and labels of run and task states, shared by the grid, the graph, badges and legends. */
import type { RunState, TaskState } from "../api/types.js";

export type AnyState = RunState | TaskState | "";

export const STATE_LABEL: Record<string, string> = {
  none: "not started",
  scheduled: "scheduled",
  queued: "queued",
  running: "running",
  success: "success",
  failed: "failed",
  up_for_retry: "up for retry",
  skipped: "skipped",
  upstream_failed: "upstream failed",
  cancelled: "cancelled",
  "": "not in this run",
};

/** The states shown in legends, in the order a task passes through them. */
export const LEGEND_STATES: TaskState[] = ["none", "scheduled", "queued", "running", "success", "failed", "up_for_retry", "upstream_failed", "skipped", "cancelled"];

export function stateClass(state: AnyState): string {
  return `st-${state === "" ? "absent" : state}`;
}

/** A coloured pill with the state's name. */
export function StateBadge({ state }: { state: AnyState }) {
  return (
    <span className={`badge ${stateClass(state)}`} data-state={state}>
      {STATE_LABEL[state] ?? state}
    </span>
  );
}

/** A small coloured square; the label is for screen readers and the tooltip. */
export function StateDot({ state, label }: { state: AnyState; label?: string }) {
  const text = label ?? STATE_LABEL[state] ?? state;
  return <span className={`dot ${stateClass(state)}`} title={text} aria-label={text} role="img" />;
}

export function Legend() {
  return (
    <div className="legend" aria-label="State colours">
      {LEGEND_STATES.map((s) => (
        <span key={s} className="legend-item">
          <StateDot state={s} /> {STATE_LABEL[s]}
        </span>
      ))}
    </div>
  );
}
