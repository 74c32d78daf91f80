/**
 * The runs × tasks grid (like Airflow's grid view): one column per run, oldest on the left, a bar
 * on top whose height shows the run's duration, and one row per task. Cells are links to the task
 * page; arrow keys move between cells (one tab stop for the whole grid), Enter opens one.
 */
import { memo, useCallback, useRef, type FocusEvent, type KeyboardEvent, type MouseEvent } from "react";
import { useNavigate } from "react-router";
import type { Grid } from "../api/types.js";
import { dateTime, duration } from "../format.js";
import { STATE_LABEL, stateClass } from "./state.js";

function runLength(start: string | null, end: string | null): number {
  if (!start) return 0;
  return Math.max(0, (end ? Date.parse(end) : Date.now()) - Date.parse(start));
}

const taskHref = (run: string, task: string) => `/runs/${encodeURIComponent(run)}/tasks/${encodeURIComponent(task)}`;

export const RunGrid = memo(function RunGrid({ grid, selectedRun }: { grid: Grid; selectedRun?: string | undefined }) {
  const navigate = useNavigate();
  const container = useRef<HTMLDivElement>(null);
  const focused = useRef<{ r: number; c: number }>({ r: 0, c: Math.max(0, grid.runs.length - 1) });
  const runs = [...grid.runs].reverse();
  // One label per run (its logical date), not one date formatting per cell.
  const labels = runs.map((r) => dateTime(r.logical_date));
  const tooltip = useRef<HTMLDivElement>(null);
  const longest = Math.max(1, ...runs.map((r) => runLength(r.started_at, r.ended_at)));

  // One click handler for thousands of cells: follow links in-app unless a modifier asks for a new tab.
  const onClick = useCallback(
    (event: MouseEvent<HTMLDivElement>) => {
      const target = (event.target as HTMLElement).closest("a");
      if (!target || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      void navigate(target.getAttribute("href") ?? "/");
    },
    [navigate],
  );

  // One tooltip for all cells, moved by hand: hovering never re-renders the grid.
  const showTip = (event: MouseEvent<HTMLDivElement> | FocusEvent<HTMLDivElement>) => {
    const tip = tooltip.current;
    const target = (event.target as HTMLElement).closest("a");
    if (!tip) return;
    if (!target) {
      tip.hidden = true;
      return;
    }
    const box = target.getBoundingClientRect();
    const frame = container.current?.getBoundingClientRect();
    tip.textContent = target.getAttribute("aria-label");
    tip.hidden = false;
    tip.style.left = `${box.left - (frame?.left ?? 0) + box.width / 2}px`;
    tip.style.top = `${box.top - (frame?.top ?? 0)}px`;
  };
  const hideTip = () => {
    if (tooltip.current) tooltip.current.hidden = true;
  };

  const focusCell = (r: number, c: number) => {
    const cell = container.current?.querySelector<HTMLAnchorElement>(`a[data-r="${r}"][data-c="${c}"]`);
    if (!cell) return;
    container.current?.querySelector('a[tabindex="0"]')?.setAttribute("tabindex", "-1");
    cell.setAttribute("tabindex", "0");
    cell.focus();
    focused.current = { r, c };
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    const r = Number(target.dataset.r);
    const c = Number(target.dataset.c);
    if (Number.isNaN(r) || Number.isNaN(c)) return;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], Home: [0, -c], End: [0, runs.length - 1 - c] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const nr = Math.min(grid.tasks.length, Math.max(0, r + move[0]));
    const nc = Math.min(runs.length - 1, Math.max(0, c + move[1]));
    focusCell(nr, nc);
  };

  const start = focused.current;
  const tabStop = (r: number, c: number) => (r === start.r && c === Math.min(start.c, runs.length - 1) ? 0 : -1);

  return (
    <div className="grid-wrap">
      <div ref={tooltip} className="grid-tip" role="tooltip" hidden />
      <div
        ref={container}
        className="run-grid"
        role="grid"
        aria-label={`Runs of ${grid.pipeline} by task`}
        aria-rowcount={grid.tasks.length + 1}
        aria-colcount={runs.length + 1}
        data-runs={runs.length}
        data-tasks={grid.tasks.length}
        onClick={onClick}
        onKeyDown={onKeyDown}
        onMouseOver={showTip}
        onFocus={showTip}
        onMouseLeave={hideTip}
        onBlur={hideTip}
        style={{ ["--cols" as string]: runs.length }}
      >
        <div className="grid-row grid-head" role="row">
          <div className="grid-label" role="columnheader">
            <span className="muted">{runs.length} of {grid.total} runs</span>
          </div>
          {runs.map((run, c) => {
            const length = runLength(run.started_at, run.ended_at);
            const height = run.started_at ? Math.max(6, Math.round((length / longest) * 56)) : 4;
            return (
              <a
                key={run.id}
                href={`/runs/${encodeURIComponent(run.id)}`}
                className={`run-bar ${stateClass(run.state)}${run.id === selectedRun ? " selected" : ""}`}
                style={{ height }}
                role="columnheader"
                data-r={0}
                data-c={c}
                tabIndex={tabStop(0, c)}
                aria-label={`run of ${labels[c]}: ${STATE_LABEL[run.state]} · ${run.trigger} · ${duration(run.started_at, run.ended_at)}`}
              />
            );
          })}
        </div>
        {grid.tasks.map((task, t) => (
          <div className="grid-row" role="row" key={task.id}>
            <div className="grid-label" role="rowheader" title={`${task.id} (${task.kind})`}>
              <span className={`kind kind-${task.kind}`} aria-hidden="true" />
              {task.id}
            </div>
            {runs.map((run, c) => {
              const state = run.states[t] ?? "";
              const tries = run.tries[t] ?? 0;
              if (state === "") return <span key={run.id} className="cell st-absent" role="gridcell" aria-label={`${task.id} is not in run ${run.id}`} />;
              return (
                <a
                  key={run.id}
                  href={taskHref(run.id, task.id)}
                  className={`cell ${stateClass(state)}`}
                  role="gridcell"
                  data-r={t + 1}
                  data-c={c}
                  data-state={state}
                  tabIndex={tabStop(t + 1, c)}
                  aria-label={`${task.id} · ${labels[c]}: ${STATE_LABEL[state]}${tries > 1 ? `, try ${tries}` : ""}`}
                >
                  {tries > 1 ? <span className="retry-mark" aria-hidden="true" /> : null}
                </a>
              );
            })}
          </div>
        ))}
      </div>
    </div>
  );
});
