/** One pipeline: the runs × tasks grid, the DAG of a run coloured live, the source, and trigger, pause and resume. */
import { lazy, Suspense, useMemo, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { api, seg } from "../api/client.js";
import { keys, useAction, useGrid, usePipeline, useRun } from "../api/hooks.js";
import { useLiveUpdates } from "../api/live.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { RunGrid } from "../components/run-grid.js";
import { Legend, StateBadge } from "../components/state.js";
import { KafkaTriggersPanel } from "../components/kafka-triggers.js";
import { TriggerDialog } from "../components/trigger-dialog.js";
import { dateTime } from "../format.js";
import { useShortcut } from "../shortcuts.js";

const DagGraph = lazy(() => import("../components/dag-graph.js"));

const TABS = [
  { id: "grid", label: "Grid" },
  { id: "graph", label: "Graph" },
  { id: "code", label: "Code" },
] as const;

export function PipelinePage() {
  const { id = "" } = useParams();
  const [search, setSearch] = useSearchParams();
  const tab = (search.get("tab") ?? "grid") as (typeof TABS)[number]["id"];
  const [limit, setLimit] = useState(() => Number(localStorage.getItem("capstan.gridRuns") ?? 25) || 25);
  const [triggerOpen, setTriggerOpen] = useState(false);
  const pipeline = usePipeline(id);
  const grid = useGrid(id, limit);
  useLiveUpdates({ pipeline: id });
  const canEdit = pipeline.data?.can_edit ?? false;
  useShortcut("t", () => setTriggerOpen(true), canEdit);
  const pause = useAction((paused: boolean) => api("PUT", `/api/pipelines/${seg(id)}/paused`, { paused }), () => [keys.pipeline(id), keys.pipelines]);

  const selectedRun = search.get("run") ?? grid.data?.runs[0]?.id;
  const run = useRun(tab === "graph" ? selectedRun : undefined);
  const graphTasks = useMemo(
    () => (pipeline.data ? pipeline.data.spec.taskOrder.map((t) => ({ id: t, kind: pipeline.data.spec.tasks[t]?.kind ?? "command", dependsOn: pipeline.data.spec.tasks[t]?.dependsOn ?? [] })) : []),
    [pipeline.data],
  );

  if (pipeline.error) return <ErrorNote error={pipeline.error} />;
  if (!pipeline.data) return <Loading what="the pipeline" />;
  const p = pipeline.data;
  const setTab = (next: string) => {
    const params = new URLSearchParams(search);
    params.set("tab", next);
    setSearch(params, { replace: true });
  };

  return (
    <>
      <PageHeader
        title={p.id}
        crumbs={[{ label: "Pipelines", to: "/pipelines" }]}
        actions={
          <>
            {canEdit && p.schedule && (
              <button type="button" className="button" onClick={() => pause.mutate(!p.paused)} disabled={pause.isPending}>
                {p.paused ? "Resume schedule" : "Pause schedule"}
              </button>
            )}
            {canEdit && (
              <button type="button" className="button primary" onClick={() => setTriggerOpen(true)} aria-keyshortcuts="t">
                Trigger run <kbd>t</kbd>
              </button>
            )}
          </>
        }
      >
        <div className="meta-line">
          <span className="tag team">{p.team}</span>
          {p.schedule ? <code>{p.schedule}</code> : <span className="muted">manual runs only</span>}
          {p.paused && <span className="tag">paused</span>}
          <span className="muted">version {p.version.slice(0, 8)}</span>
          {p.commit && <span className="muted" title={p.commit}>commit <code>{p.commit.slice(0, 10)}</code></span>}
          <span className="muted">{p.tasks} tasks</span>
        </div>
        {p.description && <p className="lead">{p.description}</p>}
      </PageHeader>
      <ErrorNote error={pause.error} />
      <KafkaTriggersPanel pipeline={p.id} />

      <div className="tabs" role="tablist" aria-label="Pipeline views">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} className={tab === t.id ? "tab active" : "tab"} onClick={() => setTab(t.id)}>
            {t.label}
          </button>
        ))}
      </div>

      {tab === "grid" && (
        <section className="panel" aria-label="Grid">
          <div className="panel-toolbar">
            <Legend />
            <span className="spacer" />
            <label className="inline">
              Runs
              <select
                value={limit}
                onChange={(e) => {
                  const n = Number(e.target.value);
                  setLimit(n);
                  localStorage.setItem("capstan.gridRuns", String(n));
                }}
              >
                {[10, 25, 50, 100].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {grid.error ? <ErrorNote error={grid.error} /> : null}
          {grid.data ? grid.data.runs.length > 0 ? <RunGrid grid={grid.data} /> : <p className="muted">No runs yet.{canEdit ? " Trigger one with the button above (or press t)." : ""}</p> : <Loading what="runs" />}
        </section>
      )}

      {tab === "graph" && (
        <section className="panel" aria-label="Graph">
          <div className="panel-toolbar">
            <label className="inline">
              Run
              <select
                value={selectedRun ?? ""}
                onChange={(e) => {
                  const params = new URLSearchParams(search);
                  params.set("run", e.target.value);
                  setSearch(params, { replace: true });
                }}
              >
                {(grid.data?.runs ?? []).map((r) => (
                  <option key={r.id} value={r.id}>
                    {dateTime(r.logical_date)} · {r.state} · {r.id}
                  </option>
                ))}
              </select>
            </label>
            {run.data && <StateBadge state={run.data.state} />}
            {run.data && <Link to={`/runs/${encodeURIComponent(run.data.id)}`}>Open run</Link>}
            <span className="spacer" />
            <Legend />
          </div>
          <Suspense fallback={<Loading what="the graph" />}>
            <DagGraph tasks={graphTasks} states={run.data?.tasks} runId={selectedRun} height={460} />
          </Suspense>
        </section>
      )}

      {tab === "code" && (
        <section className="panel" aria-label="Source">
          <div className="panel-toolbar">
            <code>{p.file}</code>
          </div>
          {Object.keys(p.spec.params).length > 0 && (
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">Param</th>
                  <th scope="col">Type</th>
                  <th scope="col">Default</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(p.spec.params).map(([name, spec]) => (
                  <tr key={name}>
                    <td>
                      <code>{name}</code>
                    </td>
                    <td>{spec.type}</td>
                    <td>{spec.default === undefined ? <span className="muted">required</span> : <code>{JSON.stringify(spec.default)}</code>}</td>
                    <td>{spec.description ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <pre className="source">{p.source}</pre>
        </section>
      )}

      {triggerOpen && <TriggerDialog pipeline={p} open={triggerOpen} onClose={() => setTriggerOpen(false)} />}
    </>
  );
}
