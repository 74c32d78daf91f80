/** All runs of the user's teams, newest first, filtered by pipeline and state, a page at a time. */
import { useState } from "react";
import { Link } from "react-router";
import { usePipelines, useRuns, type RunFilter } from "../api/hooks.js";
import { useLiveUpdates } from "../api/live.js";
import type { RunState, TaskState } from "../api/types.js";
import { ErrorNote, Empty, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { LEGEND_STATES, StateBadge, stateClass, STATE_LABEL } from "../components/state.js";
import { dateTime, duration } from "../format.js";

const PAGE = 50;
const RUN_STATES: RunState[] = ["queued", "running", "success", "failed", "cancelled"];

function Progress({ counts }: { counts: Partial<Record<TaskState, number>> }) {
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  if (total === 0) return null;
  return (
    <span className="progress" title={LEGEND_STATES.filter((s) => counts[s]).map((s) => `${counts[s]} ${STATE_LABEL[s]}`).join(", ")}>
      {LEGEND_STATES.filter((s) => counts[s]).map((s) => (
        <span key={s} className={stateClass(s)} style={{ flexGrow: counts[s] }} />
      ))}
    </span>
  );
}

export function RunsPage() {
  const [filter, setFilter] = useState<RunFilter>({ limit: PAGE, offset: 0 });
  const runs = useRuns(filter);
  const pipelines = usePipelines();
  useLiveUpdates({});
  const total = runs.data?.total ?? 0;
  return (
    <>
      <PageHeader title="Runs">
        <div className="filters">
          <label className="inline">
            Pipeline
            <select value={filter.pipeline ?? ""} onChange={(e) => setFilter({ ...filter, offset: 0, pipeline: e.target.value || undefined })}>
              <option value="">all</option>
              {(pipelines.data?.pipelines ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.id}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            State
            <select value={filter.state ?? ""} onChange={(e) => setFilter({ ...filter, offset: 0, state: (e.target.value || undefined) as RunState | undefined })}>
              <option value="">any</option>
              {RUN_STATES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        </div>
      </PageHeader>
      <ErrorNote error={runs.error} />
      {runs.isLoading && <Loading what="runs" />}
      {runs.data && runs.data.runs.length === 0 && <Empty>No runs match.</Empty>}
      {runs.data && runs.data.runs.length > 0 && (
        <>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Pipeline</th>
                <th scope="col">State</th>
                <th scope="col">Tasks</th>
                <th scope="col">Trigger</th>
                <th scope="col">Logical date</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link to={`/runs/${encodeURIComponent(r.id)}`} className="mono">
                      {r.id}
                    </Link>
                  </td>
                  <td>
                    <Link to={`/pipelines/${encodeURIComponent(r.pipeline)}`}>{r.pipeline}</Link>
                  </td>
                  <td>
                    <StateBadge state={r.state} />
                  </td>
                  <td>
                    <Progress counts={r.task_counts} />
                  </td>
                  <td>{r.trigger}</td>
                  <td>{dateTime(r.logical_date)}</td>
                  <td>{duration(r.started_at, r.ended_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="pager">
            <button type="button" className="button" disabled={filter.offset === 0} onClick={() => setFilter({ ...filter, offset: Math.max(0, filter.offset - PAGE) })}>
              ← Newer
            </button>
            <span className="muted">
              {filter.offset + 1}–{Math.min(total, filter.offset + PAGE)} of {total}
            </span>
            <button type="button" className="button" disabled={filter.offset + PAGE >= total} onClick={() => setFilter({ ...filter, offset: filter.offset + PAGE })}>
              Older →
            </button>
          </div>
        </>
      )}
    </>
  );
}
