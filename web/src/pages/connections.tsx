/**
 * Connections of the user's teams: settings and secret references (a credential is shown as the
 * secret it comes from, never its value); editors test, set and delete them.
 */
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, seg } from "../api/client.js";
import { canEdit, useAction, useMe } from "../api/hooks.js";
import type { Answer } from "../api/types.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { dateTime, relative } from "../format.js";

type ConnectionList = Answer<"/api/connections", "get">["connections"];
type Connection = ConnectionList[number];
type Check = Answer<"/api/connections/{team}/{name}/test", "post">;

const KINDS = ["kafka", "http", "s3", "webhdfs", "postgres", "spark"] as const;
const CONNECTIONS_KEY = ["connections"] as const;
const LIST_SETTINGS = new Set(["bootstrap_servers"]);
const NUMBER_SETTINGS = new Set(["port"]);
const BOOLEAN_SETTINGS = new Set(["tls", "force_path_style"]);

function settingText(value: Connection["settings"][string]): string {
  return Array.isArray(value) ? value.join(",") : String(value);
}

/** "field=value" lines into settings, typed as the API takes them. */
function parseLines(text: string, typed: boolean): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const line of text.split("\n").map((l) => l.trim()).filter((l) => l !== "")) {
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`${JSON.stringify(line)}: write field=value`);
    const field = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!typed) result[field] = value;
    else if (LIST_SETTINGS.has(field)) result[field] = value.split(",").map((v) => v.trim()).filter((v) => v !== "");
    else if (NUMBER_SETTINGS.has(field)) result[field] = Number(value);
    else if (BOOLEAN_SETTINGS.has(field)) result[field] = value === "true";
    else result[field] = value;
  }
  return result;
}

export function ConnectionsPage() {
  const me = useMe().data;
  const connections = useQuery({ queryKey: CONNECTIONS_KEY, queryFn: async () => (await api<Answer<"/api/connections", "get">>("GET", "/api/connections")).connections });
  const editable = me?.admin ? [...new Set((connections.data ?? []).map((c) => c.team).concat(me.teams.map((t) => t.team)))] : (me?.teams ?? []).filter((t) => t.role !== "viewer").map((t) => t.team);
  const [results, setResults] = useState<Record<string, Check>>({});
  const [team, setTeam] = useState("");
  const [name, setName] = useState("");
  const [kind, setKind] = useState<(typeof KINDS)[number]>("kafka");
  const [settings, setSettings] = useState("");
  const [secrets, setSecrets] = useState("");
  const [formError, setFormError] = useState<Error | null>(null);
  const test = useAction(
    async (c: { team: string; name: string }) => {
      const result = await api<Check>("POST", `/api/connections/${seg(c.team)}/${seg(c.name)}/test`);
      setResults((all) => ({ ...all, [`${c.team}/${c.name}`]: result }));
      return result;
    },
    () => [],
  );
  const save = useAction((input: { team: string; name: string; body: unknown }) => api("PUT", `/api/connections/${seg(input.team)}/${seg(input.name)}`, input.body), () => [CONNECTIONS_KEY]);
  const remove = useAction((c: { team: string; name: string }) => api("DELETE", `/api/connections/${seg(c.team)}/${seg(c.name)}`), () => [CONNECTIONS_KEY]);
  const chosenTeam = team || editable[0] || "";
  const submit = (event: FormEvent) => {
    event.preventDefault();
    try {
      const body = { kind, settings: parseLines(settings, true), secrets: parseLines(secrets, false) };
      setFormError(null);
      save.mutate({ team: chosenTeam, name, body }, { onSuccess: () => setName("") });
    } catch (error) {
      setFormError(error as Error);
    }
  };

  return (
    <>
      <PageHeader title="Connections" />
      <p className="lead muted">
        A task gets a connection's settings and credentials as environment variables with <code>connections: [events]</code>, and a pipeline's Kafka trigger names one.
        Credentials come from the team's secrets and are never shown here.
      </p>
      <ErrorNote error={connections.error ?? save.error ?? remove.error ?? test.error ?? formError} />
      {connections.isLoading && <Loading what="connections" />}
      {connections.data && connections.data.length === 0 && <p className="muted">No connections yet.</p>}
      {connections.data && connections.data.length > 0 && (
        <table className="table" aria-label="Connections">
          <thead>
            <tr>
              <th scope="col">Team</th>
              <th scope="col">Connection</th>
              <th scope="col">Kind</th>
              <th scope="col">Settings</th>
              <th scope="col">Credentials</th>
              <th scope="col">Updated</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {connections.data.map((c) => {
              const result = results[`${c.team}/${c.name}`];
              return (
                <tr key={`${c.team}/${c.name}`}>
                  <td>{c.team}</td>
                  <td className="strong">{c.name}</td>
                  <td>{c.kind}</td>
                  <td>
                    {Object.entries(c.settings).map(([field, value]) => (
                      <div key={field}>
                        <code>{field}</code> {settingText(value)}
                      </div>
                    ))}
                  </td>
                  <td>
                    {Object.entries(c.secrets).map(([field, ref]) => (
                      <div key={field}>
                        <code>{field}</code> ••• from secret <code>{ref}</code>
                      </div>
                    ))}
                  </td>
                  <td title={dateTime(c.updated_at)}>{relative(c.updated_at)}</td>
                  <td>
                    {canEdit(me, c.team) && (
                      <>
                        <button type="button" className="link-button" disabled={test.isPending} onClick={() => test.mutate({ team: c.team, name: c.name })}>
                          Test
                        </button>{" "}
                        <button type="button" className="link-button danger" onClick={() => window.confirm(`Delete connection ${c.name} of team ${c.team}? Tasks and triggers that use it will fail.`) && remove.mutate({ team: c.team, name: c.name })}>
                          Delete
                        </button>
                      </>
                    )}
                    {result && (
                      <div role="status" className={result.ok ? "muted" : "danger"}>
                        {result.ok ? "ok" : "failed"}: {result.message} ({result.elapsed_ms} ms)
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editable.length > 0 && (
        <form className="panel form" onSubmit={submit} aria-label="Set a connection">
          <h2>Set a connection</h2>
          <div className="inline-form">
            <div className="field">
              <label htmlFor="connection-team">Team</label>
              <select id="connection-team" value={chosenTeam} onChange={(e) => setTeam(e.target.value)}>
                {editable.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="connection-name">Name</label>
              <input id="connection-name" required pattern="[a-z][a-z0-9\-]{0,62}" value={name} onChange={(e) => setName(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="connection-kind">Kind</label>
              <select id="connection-kind" value={kind} onChange={(e) => setKind(e.target.value as (typeof KINDS)[number])}>
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <div className="field">
            <label htmlFor="connection-settings">Settings, one field=value a line (bootstrap_servers=k1:9092,k2:9092)</label>
            <textarea id="connection-settings" rows={4} value={settings} onChange={(e) => setSettings(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="connection-secrets">Credentials, one field=secret/key a line (sasl_password=kafka/password)</label>
            <textarea id="connection-secrets" rows={2} value={secrets} onChange={(e) => setSecrets(e.target.value)} />
          </div>
          <div className="form-actions">
            <button type="submit" className="button primary" disabled={save.isPending || chosenTeam === ""}>
              Save
            </button>
          </div>
        </form>
      )}
    </>
  );
}
