/**
 * Deployments: a model's alias (or version) served by replicas, locally or on Kubernetes, with the
 * state the controller last reported, and the Deploy form (deployment-create.tsx) for team editors;
 * a deployment's replicas, and for editors of its team scale, rollback and delete (the name typed
 * as confirmation).
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, seg } from "../api/client.js";
import { canEdit, useAction, useMe } from "../api/hooks.js";
import { Empty, ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { relative } from "../format.js";
import { DeployButton } from "./deployment-create.js";
import { modelKeys, useDeployments, type Deployment } from "./models.js";

function where(d: Deployment): string {
  return d.target === "kubernetes" ? `${d.cluster ?? ""}/${d.namespace ?? ""}` : "local";
}

export function DeploymentsPage() {
  const deployments = useDeployments();
  return (
    <>
      <PageHeader title="Deployments" crumbs={[{ label: "Models", to: "/models" }]} actions={<DeployButton label="Deploy a model" />} />
      <p className="lead muted">Each deployment serves a model's alias (rolled when the alias moves) or a pinned version. Editors of a model's team create them here, on the model's page or with capstan deployments create.</p>
      <ErrorNote error={deployments.error} />
      {deployments.isLoading && <Loading what="deployments" />}
      {deployments.data && deployments.data.length === 0 && <Empty>No deployments yet.</Empty>}
      {deployments.data && deployments.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Deployment</th>
              <th scope="col">Model</th>
              <th scope="col" className="num">
                Version
              </th>
              <th scope="col">Replicas ready</th>
              <th scope="col">Where</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {deployments.data.map((d) => (
              <tr key={d.name}>
                <td className="strong">
                  <Link to={`/deployments/${seg(d.name)}`}>{d.name}</Link>
                </td>
                <td>
                  <Link to={`/models/${seg(d.model)}`}>{d.model}</Link>@{d.ref}
                </td>
                <td className="num">{d.version}</td>
                <td>
                  {d.replica_status.filter((r) => r.state === "ready").length} / {d.replicas}
                </td>
                <td>{where(d)}</td>
                <td>{d.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** For editors: the inference key the local replicas ask for, fetched on request (never kept in the page's data), with a curl. */
function InferenceKey({ d }: { d: Deployment }) {
  const [key, setKey] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const url = d.replica_status.find((r) => r.state === "ready" && r.url)?.url;
  return (
    <div className="panel" aria-label="Inference key">
      {key === undefined ? (
        <button
          type="button"
          className="button"
          onClick={() => {
            api<{ key: string }>("GET", `/api/deployments/${seg(d.name)}/key`).then(
              (answer) => setKey(answer.key),
              (e: unknown) => setError(e),
            );
          }}
        >
          Show inference key
        </button>
      ) : (
        <>
          <p>
            Inference key: <code data-testid="inference-key">{key}</code>
          </p>
          {url && <pre className="mono">{`curl -X POST ${url}/predictions/${d.model} -H 'authorization: Bearer ${key}' -H 'content-type: application/json' -d '{}'`}</pre>}
        </>
      )}
      <ErrorNote error={error} />
    </div>
  );
}

export function DeploymentPage() {
  const name = useParams().name ?? "";
  const navigate = useNavigate();
  const deployment = useQuery({ queryKey: [...modelKeys.deployments, "one", name], queryFn: () => api<Deployment>("GET", `/api/deployments/${seg(name)}`), refetchInterval: 2_000 });
  const me = useMe().data;
  const d = deployment.data;
  const editor = canEdit(me, d?.team);
  const refresh = () => [modelKeys.deployments, modelKeys.models];
  const scale = useAction((replicas: number) => api("PUT", `/api/deployments/${seg(name)}/replicas`, { replicas }), refresh);
  const rollback = useAction(() => api("POST", `/api/deployments/${seg(name)}/rollback`, {}), refresh);
  const remove = useAction(() => api("DELETE", `/api/deployments/${seg(name)}`), refresh);
  return (
    <>
      <PageHeader title={name} crumbs={[{ label: "Deployments", to: "/deployments" }]} />
      <ErrorNote error={deployment.error ?? scale.error ?? rollback.error ?? remove.error} />
      {deployment.isLoading && <Loading what="the deployment" />}
      {d && (
        <>
          <dl className="facts">
            <dt>Model</dt>
            <dd>
              <Link to={`/models/${seg(d.model)}`}>{d.model}</Link>@{d.ref} → version {d.version}
              {d.previous_version !== null && <span className="muted"> (rollback goes to version {d.previous_version})</span>}
            </dd>
            <dt>Where</dt>
            <dd>
              {where(d)}
              {d.target === "kubernetes" && ` · cpu ${d.resources.cpu ?? "-"} · memory ${d.resources.memory ?? "-"} · gpus ${d.resources.gpus}`}
            </dd>
            <dt>State</dt>
            <dd data-testid="deployment-state">
              {d.state}
              {d.message && <span className="muted"> — {d.message}</span>}
            </dd>
            {d.target === "local" && (
              <>
                <dt>Token authorization</dt>
                <dd>{d.token_auth ? "on: replicas ask for the inference key" : "off: replicas answer anyone on 127.0.0.1"}</dd>
              </>
            )}
            <dt>Updated</dt>
            <dd>{relative(d.updated_at)}</dd>
          </dl>
          <table className="table" aria-label="Replicas">
            <thead>
              <tr>
                <th scope="col">Replica</th>
                <th scope="col" className="num">
                  Version
                </th>
                <th scope="col">State</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {d.replica_status.map((r) => (
                <tr key={r.replica}>
                  <td>{r.replica}</td>
                  <td className="num">{r.version}</td>
                  <td>
                    {r.state}
                    {r.message && <div className="muted">{r.message}</div>}
                  </td>
                  <td className="mono">{r.url ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {d.replica_status.length === 0 && <Empty>No replicas seen yet{d.target === "local" ? " (local replicas run while capstan up runs)" : ""}.</Empty>}
          {editor && d.target === "local" && d.token_auth && <InferenceKey d={d} />}
          {editor && d.state !== "deleting" && (
            <div className="panel form inline-form">
              <label className="field">
                Replicas{" "}
                <input
                  type="number"
                  min={0}
                  max={32}
                  defaultValue={d.replicas}
                  aria-label="replicas"
                  onBlur={(e) => {
                    const n = Number(e.target.value);
                    if (Number.isInteger(n) && n >= 0 && n !== d.replicas) scale.mutate(n);
                  }}
                />
              </label>
              <button type="button" className="button" disabled={d.previous_version === null || rollback.isPending} onClick={() => rollback.mutate(undefined)}>
                Roll back{d.previous_version !== null ? ` to version ${d.previous_version}` : ""}
              </button>
              <button
                type="button"
                className="link-button danger"
                onClick={() => {
                  if (window.prompt(`Type ${d.name} to delete this deployment`) === d.name) remove.mutate(undefined, { onSuccess: () => void navigate("/deployments") });
                }}
              >
                Delete
              </button>
            </div>
          )}
        </>
      )}
    </>
  );
}
