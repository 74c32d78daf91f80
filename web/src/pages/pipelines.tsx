/** The pipelines of the user's teams with the states of their recent runs, and the files that failed to load. */
import { useMemo, useRef, useState } from "react";
import { Link } from "react-router";
import { usePipelines } from "../api/hooks.js";
import { useLiveUpdates } from "../api/live.js";
import { ErrorNote, Empty, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { StateDot } from "../components/state.js";
import { dateTime, relative } from "../format.js";
import { useShortcut } from "../shortcuts.js";

export function PipelinesPage() {
  const { data, error, isLoading } = usePipelines();
  const [filter, setFilter] = useState("");
  const search = useRef<HTMLInputElement>(null);
  useLiveUpdates({});
  useShortcut("/", () => search.current?.focus());
  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return (data?.pipelines ?? []).filter((p) => !needle || `${p.id} ${p.team} ${p.description ?? ""}`.toLowerCase().includes(needle));
  }, [data, filter]);

  return (
    <>
      <PageHeader
        title="Pipelines"
        actions={
          <input
            ref={search}
            className="search"
            type="search"
            placeholder="Filter pipelines  ( / )"
            aria-label="Filter pipelines"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        }
      />
      {error ? <ErrorNote error={error} /> : null}
      {data && data.errors.length > 0 && (
        <section className="panel broken" aria-label="Pipeline files that failed to load">
          <h2>
            {data.errors.length} pipeline file{data.errors.length > 1 ? "s" : ""} failed to load
          </h2>
          <p className="muted small">The last good version of each keeps running until the file is fixed.</p>
          <ul>
            {data.errors.map((e) => (
              <li key={e.file}>
                <code>{e.file}</code>
                {e.pipeline && (
                  <>
                    {" "}
                    (<Link to={`/pipelines/${encodeURIComponent(e.pipeline)}`}>{e.pipeline}</Link>)
                  </>
                )}
                <pre className="issue">{e.message}</pre>
              </li>
            ))}
          </ul>
        </section>
      )}
      {isLoading && <Loading what="pipelines" />}
      {data && shown.length === 0 && <Empty>{data.pipelines.length === 0 ? "No pipelines in your teams yet. Pipeline files go in the pipelines folder of capstan up." : "No pipeline matches the filter."}</Empty>}
      {shown.length > 0 && (
        <table className="table pipelines">
          <thead>
            <tr>
              <th scope="col">Pipeline</th>
              <th scope="col">Team</th>
              <th scope="col">Schedule</th>
              <th scope="col">Recent runs</th>
              <th scope="col">Last run</th>
              <th scope="col" className="num">
                Tasks
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => {
              const latest = p.last_runs[0];
              return (
                <tr key={p.id}>
                  <td>
                    <Link to={`/pipelines/${encodeURIComponent(p.id)}`} className="strong">
                      {p.id}
                    </Link>
                    {p.paused && <span className="tag">paused</span>}
                    {p.description && <div className="muted small">{p.description}</div>}
                  </td>
                  <td>
                    <span className="tag team">{p.team}</span>
                  </td>
                  <td>{p.schedule ? <code>{p.schedule}</code> : <span className="muted">manual</span>}</td>
                  <td>
                    <span className="run-dots" aria-label={`last ${p.last_runs.length} runs`}>
                      {[...p.last_runs].reverse().map((r) => (
                        <Link key={r.id} to={`/runs/${encodeURIComponent(r.id)}`} aria-label={`run ${r.id}: ${r.state}`}>
                          <StateDot state={r.state} label={`${r.state} · ${dateTime(r.logical_date)}`} />
                        </Link>
                      ))}
                      {p.last_runs.length === 0 && <span className="muted small">no runs yet</span>}
                    </span>
                  </td>
                  <td className="muted">{latest ? relative(latest.logical_date) : "—"}</td>
                  <td className="num">{p.tasks}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
