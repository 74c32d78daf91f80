/** One task of a run: state, failure reason, attempts, outputs, the output notebook in a sandbox, a running Spark job's UI, the live log, and clear / mark. */
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { runFiles } from "../storage/storage-api.js";
import { api, seg } from "../api/client.js";
import { canEdit, keys, useAction, useMe, useTask } from "../api/hooks.js";
import type { Answer } from "../api/types.js";
import { useLiveUpdates } from "../api/live.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { LogViewer } from "../components/log-viewer.js";
import { StateBadge } from "../components/state.js";
import { dateTime, duration } from "../format.js";

export function TaskPage() {
  const { run = "", task = "" } = useParams();
  const detail = useTask(run, task);
  const me = useMe().data;
  const [clearOpen, setClearOpen] = useState(false);
  const [downstream, setDownstream] = useState(true);
  const [view, setView] = useState<"log" | "notebook">("log");
  useLiveUpdates({ run });
  // A Spark job's UI (or its YARN application) comes up seconds after the task starts running: look again until it shows.
  const sparkUiPending = detail.data?.kind === "spark" && detail.data.state === "running" && !detail.data.spark_ui_url && !detail.data.yarn_application;
  const refetchTask = detail.refetch;
  useEffect(() => {
    if (!sparkUiPending) return undefined;
    const timer = setInterval(() => void refetchTask(), 3000);
    return () => clearInterval(timer);
  }, [sparkUiPending, refetchTask]);
  const refresh = () => [keys.task(run, task), keys.run(run)];
  const clear = useAction((withDownstream: boolean) => api<Answer<"/api/runs/{run}/tasks/{task}/clear", "post">>("POST", `/api/runs/${seg(run)}/tasks/${seg(task)}/clear`, { downstream: withDownstream }), refresh);
  const mark = useAction((state: "success" | "failed") => api("POST", `/api/runs/${seg(run)}/tasks/${seg(task)}/mark`, { state }), refresh);

  if (detail.error) return <ErrorNote error={detail.error} />;
  if (!detail.data) return <Loading what="the task" />;
  const t = detail.data;
  const editable = canEdit(me, t.team);
  const active = ["queued", "running"].includes(t.state);
  const lastAttempt = t.attempts[t.attempts.length - 1];

  return (
    <>
      <PageHeader
        title={
          <>
            {t.task} <StateBadge state={t.state} />
          </>
        }
        crumbs={[
          { label: "Pipelines", to: "/pipelines" },
          { label: t.pipeline, to: `/pipelines/${encodeURIComponent(t.pipeline)}` },
          { label: `run ${run}`, to: `/runs/${encodeURIComponent(run)}` },
        ]}
        actions={
          editable ? (
            <>
              <button type="button" className="button" onClick={() => setClearOpen(true)} disabled={clear.isPending}>
                Clear…
              </button>
              <button type="button" className="button" onClick={() => mark.mutate("success")} disabled={mark.isPending || t.state === "success"}>
                Mark success
              </button>
              <button type="button" className="button" onClick={() => mark.mutate("failed")} disabled={mark.isPending || t.state === "failed"}>
                Mark failed
              </button>
            </>
          ) : null
        }
      />
      <ErrorNote error={clear.error ?? mark.error} />
      <p className="muted small">
        <Link to={runFiles.artifacts(t.pipeline, run)}>Artifacts folder in Files</Link>
        {t.has_notebook && (
          <>
            {" · "}
            <Link to={runFiles.notebook(t.pipeline, run, task)}>Output notebook in Files</Link>
          </>
        )}
        {t.yarn_application && (
          <>
            {" · "}
            <a href={t.yarn_application.url} target="_blank" rel="noopener noreferrer" data-testid="yarn-application">
              YARN {t.yarn_application.id}
            </a>
            {" · "}
            <a href={t.yarn_application.spark_ui_url} target="_blank" rel="noopener noreferrer" data-testid="yarn-spark-ui">
              Spark UI
            </a>
          </>
        )}
        {t.spark_ui_url && (
          <>
            {" · "}
            <a href={t.spark_ui_url} target="_blank" rel="noopener noreferrer" data-testid="spark-ui">
              Spark UI
            </a>
          </>
        )}
      </p>
      {clear.data && (
        <div className="note" role="status">
          Cleared {clear.data.cleared.join(", ")}; {clear.data.cleared.length > 1 ? "they run" : "it runs"} again.
        </div>
      )}
      {t.reason && (t.state === "failed" || t.state === "up_for_retry" || t.state === "upstream_failed" || t.state === "cancelled") && (
        <div className="failure" role="note" data-testid="failure-reason">
          <strong>Why it {t.state === "up_for_retry" ? "will retry" : "did not succeed"}:</strong> {t.reason}
          {t.next_retry_at && <div className="small">Next try {dateTime(t.next_retry_at)}</div>}
        </div>
      )}
      <dl className="facts">
        <div>
          <dt>Kind</dt>
          <dd>{t.kind ?? "—"}</dd>
        </div>
        <div>
          <dt>Tries</dt>
          <dd>
            {t.tries} of {t.max_tries}
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{dateTime(t.started_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration(t.started_at, t.ended_at)}</dd>
        </div>
        <div>
          <dt>Pool</dt>
          <dd>{t.pool}</dd>
        </div>
        <div>
          <dt>Upstream</dt>
          <dd>
            {t.depends_on.length === 0
              ? "—"
              : t.depends_on.map((d, i) => (
                  <span key={d}>
                    {i > 0 && ", "}
                    <Link to={`/runs/${encodeURIComponent(run)}/tasks/${encodeURIComponent(d)}`}>{d}</Link>
                  </span>
                ))}
          </dd>
        </div>
      </dl>

      <section className="panel">
        <div className="tabs" role="tablist" aria-label="Task output">
          <button type="button" role="tab" aria-selected={view === "log"} className={view === "log" ? "tab active" : "tab"} onClick={() => setView("log")}>
            Log
          </button>
          {t.has_notebook && (
            <button type="button" role="tab" aria-selected={view === "notebook"} className={view === "notebook" ? "tab active" : "tab"} onClick={() => setView("notebook")}>
              Output notebook
            </button>
          )}
        </div>
        {view === "log" && <LogViewer run={run} task={task} tries={t.tries} active={active} />}
        {view === "notebook" && t.has_notebook && (
          <div className="notebook">
            <div className="panel-toolbar">
              <span className="muted small">Rendered without scripts in a sandbox.</span>
              <span className="spacer" />
              <a href={`/api/runs/${seg(run)}/tasks/${seg(task)}/notebook`} download>
                Download .ipynb
              </a>
              <Link to={runFiles.notebook(t.pipeline, run, task)}>Open in Files</Link>
            </div>
            {/* An empty sandbox: no scripts, no same-origin, no forms or popups; the server also sends CSP sandbox. */}
            <iframe title={`Output notebook of ${t.task}`} sandbox="" src={`/api/runs/${seg(run)}/tasks/${seg(task)}/notebook/html?try=${lastAttempt?.try ?? t.tries}`} className="notebook-frame" />
          </div>
        )}
      </section>

      {t.outputs && Object.keys(t.outputs).length > 0 && (
        <section className="panel" aria-label="Outputs">
          <h2>Outputs</h2>
          <pre className="json">{JSON.stringify(t.outputs, null, 2)}</pre>
        </section>
      )}

      <section className="panel" aria-label="Attempts">
        <h2>Attempts</h2>
        {t.attempts.length === 0 ? (
          <p className="muted">No attempt yet.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col" className="num">
                  Try
                </th>
                <th scope="col">State</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col" className="num">
                  Exit
                </th>
                <th scope="col">Executor</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {[...t.attempts].reverse().map((a) => (
                <tr key={a.try}>
                  <td className="num">{a.try}</td>
                  <td>
                    <StateBadge state={a.state as never} />
                  </td>
                  <td>{dateTime(a.started_at)}</td>
                  <td>{duration(a.started_at, a.ended_at)}</td>
                  <td className="num">{a.exit_code ?? "—"}</td>
                  <td>
                    <span title={a.external_id}>{a.executor}</span>
                  </td>
                  <td className="reason">{a.reason ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <Dialog open={clearOpen} title={`Clear ${t.task}`} onClose={() => setClearOpen(false)}>
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            clear.mutate(downstream, { onSuccess: () => setClearOpen(false) });
          }}
        >
          <p>The task runs again with fresh retries. A finished run is queued again.</p>
          <label className="check">
            <input type="checkbox" checked={downstream} onChange={(e) => setDownstream(e.target.checked)} /> Also clear the tasks downstream of it
          </label>
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setClearOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="button primary" disabled={clear.isPending}>
              Clear
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
