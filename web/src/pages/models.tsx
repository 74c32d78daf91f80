/**
 * The model registry: models with their latest version and aliases; a model's versions with their
 * lineage (the run, task, params and metrics, linked to the run), aliases, and the deployments that
 * serve each version. Editors of the model's team move aliases.
 */
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, seg } from "../api/client.js";
import { canEdit, useAction, useMe } from "../api/hooks.js";
import type { components } from "../api/openapi.gen.js";
import { Empty, ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { dateTime } from "../format.js";
import { DeployButton } from "./deployment-create.js";

type ModelSummary = components["schemas"]["ModelSummary"];
type ModelDetail = components["schemas"]["ModelDetail"];
export type Deployment = components["schemas"]["Deployment"];

export const modelKeys = {
  models: ["models"] as const,
  model: (name: string) => ["model", name] as const,
  deployments: ["deployments"] as const,
};

/** Deployments the user may see (of one model when `model` is given); refreshed every few seconds. */
export function useDeployments(model?: string) {
  return useQuery({
    queryKey: [...modelKeys.deployments, model ?? ""],
    queryFn: async () => (await api<{ deployments: Deployment[] }>("GET", `/api/deployments${model ? `?model=${encodeURIComponent(model)}` : ""}`)).deployments,
    refetchInterval: 3_000,
  });
}

function aliasText(aliases: Record<string, number>): string {
  return Object.entries(aliases)
    .map(([alias, version]) => `${alias} → ${version}`)
    .join(", ");
}

export function ModelsPage() {
  const models = useQuery({ queryKey: modelKeys.models, queryFn: async () => (await api<{ models: ModelSummary[] }>("GET", "/api/models")).models });
  return (
    <>
      <PageHeader title="Models" actions={<Link to="/deployments">Deployments</Link>} />
      <p className="lead muted">Registered models of your teams: each version keeps the run and task that produced it; aliases such as production name the version deployments serve.</p>
      <ErrorNote error={models.error} />
      {models.isLoading && <Loading what="models" />}
      {models.data && models.data.length === 0 && <Empty>No models yet: register one with capstan models register NAME PATH.</Empty>}
      {models.data && models.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Team</th>
              <th scope="col" className="num">
                Latest
              </th>
              <th scope="col">Aliases</th>
              <th scope="col">Registered</th>
            </tr>
          </thead>
          <tbody>
            {models.data.map((m) => (
              <tr key={m.name}>
                <td className="strong">
                  <Link to={`/models/${seg(m.name)}`}>{m.name}</Link>
                </td>
                <td>{m.team}</td>
                <td className="num">{m.latest_version ?? "-"}</td>
                <td>{aliasText(m.aliases)}</td>
                <td>{dateTime(m.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function ModelPage() {
  const name = useParams().name ?? "";
  const model = useQuery({ queryKey: modelKeys.model(name), queryFn: () => api<ModelDetail>("GET", `/api/models/${seg(name)}`) });
  const deployments = useDeployments(name);
  const me = useMe().data;
  const editor = canEdit(me, model.data?.team);
  const [alias, setAlias] = useState("production");
  const [version, setVersion] = useState("");
  const move = useAction((input: { alias: string; version: number }) => api("PUT", `/api/models/${seg(name)}/aliases/${seg(input.alias)}`, { version: input.version }), () => [modelKeys.model(name), modelKeys.models, modelKeys.deployments]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    move.mutate({ alias, version: Number(version) });
  };
  const servedBy = (v: number) => (deployments.data ?? []).filter((d) => d.version === v);
  return (
    <>
      <PageHeader title={name} crumbs={[{ label: "Models", to: "/models" }]} />
      <ErrorNote error={model.error ?? move.error} />
      {model.isLoading && <Loading what="the model" />}
      {model.data && (
        <>
          <p className="lead muted">
            Team {model.data.team}; aliases: {aliasText(model.data.aliases) || "none"}.
          </p>
          <table className="table" aria-label="Versions">
            <thead>
              <tr>
                <th scope="col" className="num">
                  Version
                </th>
                <th scope="col">Aliases</th>
                <th scope="col">Lineage</th>
                <th scope="col">Params</th>
                <th scope="col">Metrics</th>
                <th scope="col">Deployed in</th>
                <th scope="col">Registered</th>
                {editor && <th scope="col">Deploy</th>}
              </tr>
            </thead>
            <tbody>
              {[...model.data.versions].reverse().map((v) => (
                <tr key={v.version} data-version={v.version}>
                  <td className="num strong">{v.version}</td>
                  <td>{v.aliases.join(", ")}</td>
                  <td>
                    {v.run_id ? (
                      <>
                        run <Link to={`/runs/${seg(v.run_id)}`}>{v.run_id}</Link>
                        {v.task_id && (
                          <>
                            , task <Link to={`/runs/${seg(v.run_id)}/tasks/${seg(v.task_id)}`}>{v.task_id}</Link>
                          </>
                        )}
                      </>
                    ) : (
                      <span className="muted">registered by hand</span>
                    )}
                    <div className="muted mono" title={v.sha256}>
                      {v.kind} {v.sha256.slice(0, 12)}
                    </div>
                  </td>
                  <td className="mono">{v.params ? Object.entries(v.params).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join(" ") : ""}</td>
                  <td className="mono">{v.metrics ? Object.entries(v.metrics).map(([k, x]) => `${k}=${x}`).join(" ") : ""}</td>
                  <td>
                    {servedBy(v.version).map((d) => (
                      <div key={d.name}>
                        <Link to={`/deployments/${seg(d.name)}`}>{d.name}</Link> <span className="muted">({d.state})</span>
                      </div>
                    ))}
                  </td>
                  <td>{dateTime(v.created_at)}</td>
                  {editor && (
                    <td>
                      {[...v.aliases.map((a) => ({ ref: a, label: `Deploy ${a}` })), { ref: String(v.version), label: `Deploy version ${v.version}` }].map((choice) => (
                        <DeployButton key={choice.ref} team={model.data.team} model={name} reference={choice.ref} label={choice.label} />
                      ))}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {editor && (
            <form className="panel form inline-form" onSubmit={submit} aria-label="Move an alias">
              <label className="field">
                Alias <input value={alias} onChange={(e) => setAlias(e.target.value)} required maxLength={32} />
              </label>
              <label className="field">
                Version{" "}
                <select value={version} onChange={(e) => setVersion(e.target.value)} required>
                  <option value="">choose…</option>
                  {model.data.versions.map((v) => (
                    <option key={v.version} value={v.version}>
                      {v.version}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" className="button primary" disabled={move.isPending}>
                Move alias
              </button>
            </form>
          )}
        </>
      )}
    </>
  );
}
