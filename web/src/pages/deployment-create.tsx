/**
 * The form that creates a deployment: a name, a model at an alias (followed when it moves) or a
 * pinned version, a target (local, or a Kubernetes cluster the platform knows with namespace, GPUs,
 * cpu and memory), a replica count and, locally, whether replicas ask for the inference key. The fields are checked as the API checks them, and the API's
 * own error is shown at the field it names. Offered to editors of the model's team only.
 */
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { useNavigate } from "react-router";
import { api, ApiError, seg } from "../api/client.js";
import { canEdit, useAction, useMe } from "../api/hooks.js";
import type { components } from "../api/openapi.gen.js";
import type { Answer } from "../api/types.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNote } from "../components/feedback.js";
import { deployRequest, FIELDS, MAX_GPUS, MAX_REPLICAS, type CreateBody, type DeployFormValues, type Field } from "./deployment-request.js";
import { modelKeys, type Deployment } from "./models.js";

type ModelSummary = components["schemas"]["ModelSummary"];
type ModelDetail = components["schemas"]["ModelDetail"];
/** The field an API error names ("replicas: …"), so its message is shown there. */
function fieldOf(error: unknown): Field | undefined {
  if (!(error instanceof ApiError) || (error.status !== 400 && error.status !== 404 && error.status !== 409)) return undefined;
  const field = /^([a-z]+):/.exec(error.message)?.[1];
  return FIELDS.find((f) => f === field);
}

/** The create-deployment dialog; `model` and `reference` preselect what a model page's Deploy button offers. */
export function DeployDialog({ open, onClose, model: fixedModel, reference }: { open: boolean; onClose: () => void; model?: string | undefined; reference?: string | undefined }) {
  const me = useMe().data;
  const navigate = useNavigate();
  const models = useQuery({ queryKey: modelKeys.models, queryFn: async () => (await api<{ models: ModelSummary[] }>("GET", "/api/models")).models, enabled: open });
  const targets = useQuery({ queryKey: ["deployment-targets"], queryFn: () => api<Answer<"/api/deployment-targets", "get">>("GET", "/api/deployment-targets"), enabled: open });
  const editable = (models.data ?? []).filter((m) => canEdit(me, m.team));
  const [values, setValues] = useState<DeployFormValues>({
    name: "",
    model: fixedModel ?? "",
    ref: reference ?? "",
    target: "local",
    cluster: "",
    namespace: "default",
    replicas: "1",
    gpus: "0",
    cpu: "",
    memory: "",
    tokenAuth: true,
  });
  const chosen = useQuery({ queryKey: modelKeys.model(values.model), queryFn: () => api<ModelDetail>("GET", `/api/models/${seg(values.model)}`), enabled: open && values.model !== "" });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const create = useAction(
    (body: CreateBody) => api<Deployment>("POST", "/api/deployments", body),
    () => [modelKeys.deployments, modelKeys.models],
  );
  const set = (field: keyof DeployFormValues) => (event: { target: { value: string } }) => setValues({ ...values, [field]: event.target.value });
  const clusters = targets.data?.clusters ?? [];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const checked = deployRequest({ ...values, cluster: values.target === "kubernetes" && values.cluster === "" && clusters.length === 1 ? clusters[0]!.name : values.cluster });
    if ("errors" in checked) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    create.mutate(checked.body, {
      onSuccess: (deployment) => {
        onClose();
        void navigate(`/deployments/${seg(deployment.name)}`);
      },
      onError: (error) => {
        const field = fieldOf(error);
        if (field) setErrors({ [field]: error.message.replace(/^[a-z]+:\s*/, "") });
      },
    });
  };

  const field = (name: Field, label: string, input: ReactNode, help?: string) => (
    <div className={`field${errors[name] ? " has-error" : ""}`}>
      <label htmlFor={`deploy-${name}`}>{label}</label>
      {input}
      <small id={`deploy-${name}-help`} className="help" data-field-error={errors[name] ? name : undefined}>
        {errors[name] ?? help ?? ""}
      </small>
    </div>
  );
  const invalid = (name: Field) => ({ id: `deploy-${name}`, name, "aria-invalid": errors[name] ? true : undefined, "aria-describedby": `deploy-${name}-help` });
  const aliases = Object.entries(chosen.data?.aliases ?? {});
  const versions = [...(chosen.data?.versions ?? [])].reverse();

  return (
    <Dialog open={open} title={fixedModel ? `Deploy ${fixedModel}` : "Deploy a model"} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate aria-label="Create a deployment">
        <ErrorNote error={models.error ?? targets.error ?? chosen.error} />
        {field("name", "Name", <input {...invalid("name")} type="text" maxLength={40} value={values.name} onChange={set("name")} autoComplete="off" />, "Lowercase letters, digits and '-'; unique across teams")}
        {field(
          "model",
          "Model",
          <select {...invalid("model")} value={values.model} onChange={(e) => setValues({ ...values, model: e.target.value, ref: "" })} disabled={fixedModel !== undefined}>
            <option value="">choose…</option>
            {(fixedModel !== undefined ? [{ name: fixedModel, team: "" }] : editable).map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
                {m.team ? ` (${m.team})` : ""}
              </option>
            ))}
          </select>,
        )}
        {field(
          "ref",
          "Serves",
          <select {...invalid("ref")} value={values.ref} onChange={set("ref")}>
            <option value="">choose…</option>
            {aliases.map(([alias, version]) => (
              <option key={`alias-${alias}`} value={alias}>
                alias {alias} (now version {version}; followed when it moves)
              </option>
            ))}
            {versions.map((v) => (
              <option key={`version-${v.version}`} value={String(v.version)}>
                version {v.version} (pinned)
              </option>
            ))}
          </select>,
        )}
        {field(
          "target",
          "Target",
          <select {...invalid("target")} value={values.target} onChange={(e) => setValues({ ...values, target: e.target.value === "kubernetes" ? "kubernetes" : "local" })}>
            <option value="local">local (capstan serve processes of capstan up)</option>
            {clusters.length > 0 && <option value="kubernetes">Kubernetes</option>}
          </select>,
          clusters.length === 0 ? "No Kubernetes cluster is configured (clusters: in capstan.yaml)" : undefined,
        )}
        {values.target === "kubernetes" && (
          <>
            {field(
              "cluster",
              "Cluster",
              <select {...invalid("cluster")} value={values.cluster || (clusters.length === 1 ? clusters[0]!.name : "")} onChange={set("cluster")}>
                {clusters.length !== 1 && <option value="">choose…</option>}
                {clusters.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name}
                  </option>
                ))}
              </select>,
            )}
            {field("namespace", "Namespace", <input {...invalid("namespace")} type="text" maxLength={63} value={values.namespace} onChange={set("namespace")} />)}
            {field("gpus", "GPUs per replica", <input {...invalid("gpus")} type="number" min={0} max={MAX_GPUS} step={1} value={values.gpus} onChange={set("gpus")} />)}
            {field("cpu", "CPU per replica", <input {...invalid("cpu")} type="text" maxLength={20} placeholder="e.g. 500m or 2" value={values.cpu} onChange={set("cpu")} />)}
            {field("memory", "Memory per replica", <input {...invalid("memory")} type="text" maxLength={20} placeholder="e.g. 4Gi" value={values.memory} onChange={set("memory")} />)}
          </>
        )}
        {values.target === "local" && (
          <div className="field">
            <label className="check">
              <input id="deploy-token-auth" type="checkbox" checked={values.tokenAuth} onChange={(e) => setValues({ ...values, tokenAuth: e.target.checked })} /> Replicas ask for the inference key
            </label>
            <small className="help">As TorchServe ≥ 0.11: team editors read the key on the deployment's page or with capstan deployments key NAME.</small>
          </div>
        )}
        {field("replicas", "Replicas", <input {...invalid("replicas")} type="number" min={0} max={MAX_REPLICAS} step={1} value={values.replicas} onChange={set("replicas")} />, `0–${MAX_REPLICAS}`)}
        {create.error && fieldOf(create.error) === undefined ? <ErrorNote error={create.error} /> : null}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={create.isPending}>
            {create.isPending ? "Deploying…" : "Deploy"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** A "Deploy" button with its dialog, shown only to editors of `team` (any team when undefined). */
export function DeployButton({ team, model, reference, label }: { team?: string | undefined; model?: string | undefined; reference?: string | undefined; label?: string }) {
  const me = useMe().data;
  const [open, setOpen] = useState(false);
  const allowed = team === undefined ? me !== undefined && (me.admin || me.teams.some((t) => t.role !== "viewer")) : canEdit(me, team);
  if (!allowed) return null;
  return (
    <>
      <button type="button" className="button" onClick={() => setOpen(true)} data-deploy={reference ?? ""}>
        {label ?? "Deploy"}
      </button>
      {open && <DeployDialog open={open} onClose={() => setOpen(false)} model={model} reference={reference} />}
    </>
  );
}
