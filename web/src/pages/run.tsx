/** One run: its state and params, the DAG coloured live, and every task with state, tries and timing. */
import { lazy, Suspense, useMemo } from "react";
import { Link, useParams } from "react-router";
import { runFiles } from "../storage/storage-api.js";
import { api, seg } from "../api/client.js";
import { canEdit, keys, useAction, useMe, usePipeline, useRun } from "../api/hooks.js";
import { useLiveUpdates } from "../api/live.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { StateBadge } from "../components/state.js";
import { dateTime, duration } from "../format.js";

const DagGraph = lazy(() => import("../components/dag-graph.js"));

export function RunPage() {
  const { run: runId = "" } = useParams();
  const run = useRun(runId);
  const me = useMe().data;
  const pipeline = usePipeline(run.data?.pipeline);
  useLiveUpdates({ run: runId });
  const cancel = useAction(() => api("POST", `/api/runs/${seg(runId)}/cancel`, {}), () => [keys.run(runId)]);
  const graphTasks = useMemo(() => {
    const spec = pipeline.data?.spec;
    const ids = Object.keys(run.data?.tasks ?? {});
    return ids.map((t) => ({ id: t, kind: spec?.tasks[t]?.kind ?? "command", dependsOn: spec?.tasks[t]?.dependsOn ?? [] }));
  }, [pipeline.data, run.data?.tasks]);

  if (run.error) return <ErrorNote error={run.error} />;
  if (!run.data) return <Loading what="the run" />;
  const r = run.data;
  const editable = canEdit(me, r.team);
  const finished = ["success", "failed", "cancelled"].includes(r.state);
  const tasks = Object.entries(r.tasks);

  return (
    <>
      <PageHeader
        title={
          <>
            Run <span className="mono">{r.id}</span> <StateBadge state={r.state} />
          </>
        }
        crumbs={[
          { label: "Pipelines", to: "/pipelines" },
          { label: r.pipeline, to: `/pipelines/${encodeURIComponent(r.pipeline)}` },
        ]}
        actions={
          editable && !finished ? (
            <button
              type="button"
              className="button danger"
              disabled={cancel.isPending}
              onClick={() => {
                if (window.confirm(`Cancel run ${r.id}? Running tasks are killed.`)) cancel.mutate(undefined);
              }}
            >
              Cancel run
            </button>
          ) : null
        }
      />
      <ErrorNote error={cancel.error} />
      <p className="muted small">
        <Link to={runFiles.artifacts(r.pipeline, r.id)}>Artifacts of this run in Files</Link>
      </p>
      <dl className="facts">
        <div>
          <dt>Trigger</dt>
          <dd>{r.trigger}</dd>
        </div>
        <div>
          <dt>Logical date</dt>
          <dd>{dateTime(r.logical_date)}</dd>
        </div>
        <div>
          <dt>Data interval</dt>
          <dd>
            {dateTime(r.data_interval_start)} – {dateTime(r.data_interval_end)}
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{dateTime(r.started_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration(r.started_at, r.ended_at)}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd className="mono">{r.version.slice(0, 12)}</dd>
        </div>
      </dl>
      {(Object.keys(r.params).length > 0 || r.note) && (
        <section className="panel">
          {Object.keys(r.params).length > 0 && (
            <>
              <h2>Params</h2>
              <pre className="json">{JSON.stringify(r.params, null, 2)}</pre>
            </>
          )}
          {r.note && <p>{r.note}</p>}
        </section>
      )}
      <section className="panel" aria-label="Graph">
        <h2>Graph</h2>
        <Suspense fallback={<Loading what="the graph" />}>{graphTasks.length > 0 && <DagGraph tasks={graphTasks} states={r.tasks} runId={r.id} height={Math.min(520, 120 + graphTasks.length * 28)} />}</Suspense>
      </section>
      <section className="panel" aria-label="Tasks">
        <h2>Tasks</h2>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Tries
              </th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map(([id, t]) => (
              <tr key={id} data-task={id} data-state={t.state}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.id)}/tasks/${encodeURIComponent(id)}`} className="strong">
                    {id}
                  </Link>
                </td>
                <td>
                  <StateBadge state={t.state} />
                </td>
                <td className="num">{t.tries}</td>
                <td>{dateTime(t.started_at)}</td>
                <td>{duration(t.started_at, t.ended_at)}</td>
                <td className="reason">{t.reason ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
