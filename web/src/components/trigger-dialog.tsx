/** The trigger form, generated from the pipeline's params and their types; the API checks them again and its message is shown at the field. */
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { ApiError, api, seg } from "../api/client.js";
import { keys, useAction } from "../api/hooks.js";
import type { ParamSpec, PipelineDetail, RequestBody, RunView } from "../api/types.js";
import { Dialog } from "./dialog.js";
import { ErrorNote } from "./feedback.js";

function initialText(spec: ParamSpec): string {
  if (spec.default === undefined) return "";
  if (spec.type === "array" || spec.type === "object") return JSON.stringify(spec.default, null, 2);
  return typeof spec.default === "string" ? spec.default : JSON.stringify(spec.default);
}

/** Converts a field's text to the param's type; throws with a message for the field. */
function convert(name: string, spec: ParamSpec, text: string, checked: boolean): unknown {
  switch (spec.type) {
    case "boolean":
      return checked;
    case "integer":
    case "number": {
      const n = Number(text.trim());
      if (text.trim() === "" || !Number.isFinite(n)) throw new Error(`${name} needs a number`);
      if (spec.type === "integer" && !Number.isInteger(n)) throw new Error(`${name} needs a whole number`);
      return n;
    }
    case "array":
    case "object": {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error(`${name} needs JSON (${spec.type === "array" ? "a list like [1, 2]" : 'an object like {"a": 1}'})`);
      }
    }
    default:
      return spec.enum ? (spec.enum.find((v) => String(v) === text) ?? text) : text;
  }
}

export function TriggerDialog({ pipeline, open, onClose }: { pipeline: PipelineDetail; open: boolean; onClose: () => void }) {
  const params = Object.entries(pipeline.spec.params);
  const [texts, setTexts] = useState<Record<string, string>>(() => Object.fromEntries(params.map(([n, s]) => [n, initialText(s)])));
  const [checks, setChecks] = useState<Record<string, boolean>>(() => Object.fromEntries(params.map(([n, s]) => [n, s.default === true])));
  const [logicalDate, setLogicalDate] = useState("");
  const [note, setNote] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const navigate = useNavigate();
  const trigger = useAction(
    (body: RequestBody<"/api/pipelines/{id}/runs", "post">) => api<RunView>("POST", `/api/pipelines/${seg(pipeline.id)}/runs`, body),
    () => [keys.gridsOf(pipeline.id), keys.pipelines, keys.pipeline(pipeline.id), keys.runs],
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const values: Record<string, unknown> = {};
    const errors: Record<string, string> = {};
    for (const [name, spec] of params) {
      const text = texts[name] ?? "";
      if (spec.type !== "boolean" && text.trim() === "" && spec.default === undefined) {
        errors[name] = `${name} is required`;
        continue;
      }
      if (spec.type !== "boolean" && text.trim() === "" && spec.type !== "string") continue;
      try {
        values[name] = convert(name, spec, text, checks[name] ?? false);
      } catch (e) {
        errors[name] = (e as Error).message;
      }
    }
    setFieldErrors(errors);
    if (Object.keys(errors).length > 0) return;
    trigger.mutate(
      { params: values, ...(logicalDate ? { logical_date: new Date(logicalDate).toISOString() } : {}), ...(note ? { note } : {}) },
      {
        onSuccess: (run) => {
          onClose();
          void navigate(`/runs/${encodeURIComponent(run.id)}`);
        },
        onError: (error) => {
          if (error instanceof ApiError && error.code === "invalid_param") {
            const param = (error.details as { param?: string } | undefined)?.param;
            if (param) setFieldErrors({ [param]: error.message });
          }
        },
      },
    );
  };

  return (
    <Dialog open={open} title={`Trigger ${pipeline.id}`} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        {params.length === 0 && <p className="muted">This pipeline has no params.</p>}
        {params.map(([name, spec]) => {
          const id = `param-${name}`;
          const error = fieldErrors[name];
          return (
            <div className={`field${error ? " has-error" : ""}`} key={name}>
              <label htmlFor={id}>
                {name} <span className="type">{spec.type}</span>
                {spec.default === undefined && spec.type !== "boolean" && <span className="required">required</span>}
              </label>
              {spec.type === "boolean" ? (
                <label className="check">
                  <input id={id} type="checkbox" checked={checks[name] ?? false} onChange={(e) => setChecks({ ...checks, [name]: e.target.checked })} /> {spec.description ?? "enabled"}
                </label>
              ) : spec.enum ? (
                <select id={id} name={name} value={texts[name] ?? ""} onChange={(e) => setTexts({ ...texts, [name]: e.target.value })}>
                  {spec.enum.map((v) => (
                    <option key={String(v)} value={String(v)}>
                      {String(v)}
                    </option>
                  ))}
                </select>
              ) : spec.type === "array" || spec.type === "object" ? (
                <textarea id={id} name={name} rows={4} spellCheck={false} value={texts[name] ?? ""} onChange={(e) => setTexts({ ...texts, [name]: e.target.value })} />
              ) : (
                <input
                  id={id}
                  name={name}
                  type={spec.type === "string" ? "text" : "number"}
                  step={spec.type === "integer" ? 1 : "any"}
                  min={spec.minimum}
                  max={spec.maximum}
                  value={texts[name] ?? ""}
                  onChange={(e) => setTexts({ ...texts, [name]: e.target.value })}
                  aria-invalid={error ? true : undefined}
                  aria-describedby={`${id}-help`}
                />
              )}
              <small id={`${id}-help`} className="help">
                {error ?? [spec.description, spec.minimum !== undefined ? `≥ ${spec.minimum}` : "", spec.maximum !== undefined ? `≤ ${spec.maximum}` : "", spec.default !== undefined ? `default ${JSON.stringify(spec.default)}` : ""].filter(Boolean).join(" · ")}
              </small>
            </div>
          );
        })}
        <details className="more">
          <summary>Logical date and note</summary>
          <div className="field">
            <label htmlFor="logical-date">Logical date</label>
            <input id="logical-date" type="datetime-local" value={logicalDate} onChange={(e) => setLogicalDate(e.target.value)} />
            <small className="help">Empty: now.</small>
          </div>
          <div className="field">
            <label htmlFor="note">Note</label>
            <input id="note" type="text" maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} />
          </div>
        </details>
        {trigger.error && !(trigger.error instanceof ApiError && trigger.error.code === "invalid_param") ? <ErrorNote error={trigger.error} /> : null}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={trigger.isPending}>
            {trigger.isPending ? "Triggering…" : "Trigger run"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
