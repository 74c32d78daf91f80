/** Secrets of the user's teams: names and keys only (values are write-only); team admins set and delete them. */
import { useState, type FormEvent } from "react";
import { api, seg } from "../api/client.js";
import { editsAnyTeam, isTeamAdmin, keys, useAction, useMe, useSecrets, useTeams } from "../api/hooks.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { dateTime, relative } from "../format.js";

interface Entry {
  key: string;
  value: string;
}

const NAME_PATTERN = "[A-Za-z0-9_.\\-]{1,63}";
const KEY_PATTERN = "[A-Za-z0-9_.\\-]+";

export function SecretsPage() {
  const me = useMe().data;
  const mayList = editsAnyTeam(me);
  const secrets = useSecrets(mayList);
  const teams = useTeams();
  const settable = me?.admin ? (teams.data ?? []).map((t) => t.name) : (me?.teams ?? []).filter((t) => t.role === "admin").map((t) => t.team);
  const [team, setTeam] = useState("");
  const [name, setName] = useState("");
  const [entries, setEntries] = useState<Entry[]>([{ key: "", value: "" }]);
  const save = useAction((input: { team: string; name: string; data: Record<string, string> }) => api("PUT", `/api/secrets/${seg(input.team)}/${seg(input.name)}`, { data: input.data }), () => [keys.secrets]);
  const remove = useAction((input: { team: string; name: string }) => api("DELETE", `/api/secrets/${seg(input.team)}/${seg(input.name)}`), () => [keys.secrets]);
  const chosenTeam = team || settable[0] || "";
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const data = Object.fromEntries(entries.filter((e) => e.key !== "").map((e) => [e.key, e.value]));
    save.mutate(
      { team: chosenTeam, name, data },
      {
        onSuccess: () => {
          setName("");
          setEntries([{ key: "", value: "" }]);
        },
      },
    );
  };
  const setEntry = (index: number, change: Partial<Entry>) => setEntries((list) => list.map((e, i) => (i === index ? { ...e, ...change } : e)));

  return (
    <>
      <PageHeader title="Secrets" />
      <p className="lead muted">
        A task reads a secret of its pipeline's team as an environment variable, with <code>secrets: {"{ DB_PASSWORD: warehouse/password }"}</code>. Values are
        encrypted at rest, never shown again once saved, and masked in logs.
      </p>
      {!mayList && me && <p className="muted">Secrets are shown to the editors and admins of a team.</p>}
      <ErrorNote error={secrets.error ?? save.error ?? remove.error} />
      {secrets.isLoading && <Loading what="secrets" />}
      {secrets.data && secrets.data.length === 0 && <p className="muted">No secrets yet.</p>}
      {secrets.data && secrets.data.length > 0 && (
        <table className="table" aria-label="Secrets">
          <thead>
            <tr>
              <th scope="col">Team</th>
              <th scope="col">Secret</th>
              <th scope="col">Keys</th>
              <th scope="col">Updated</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {secrets.data.map((s) => (
              <tr key={`${s.team}/${s.name}`}>
                <td>{s.team}</td>
                <td className="strong">{s.name}</td>
                <td>
                  {s.keys.map((k) => (
                    <code key={k} className="key-chip">
                      {k}
                    </code>
                  ))}
                </td>
                <td title={dateTime(s.updated_at)}>{relative(s.updated_at)}</td>
                <td>
                  {isTeamAdmin(me, s.team) && (
                    <button type="button" className="link-button danger" onClick={() => window.confirm(`Delete secret ${s.name} of team ${s.team}? Tasks that use it will fail to start.`) && remove.mutate({ team: s.team, name: s.name })}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {settable.length > 0 && (
        <form className="panel form" onSubmit={submit} aria-label="Set a secret">
          <h2>Set a secret</h2>
          <div className="inline-form">
            <div className="field">
              <label htmlFor="secret-team">Team</label>
              <select id="secret-team" value={chosenTeam} onChange={(e) => setTeam(e.target.value)}>
                {settable.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="secret-name">Name</label>
              <input id="secret-name" required pattern={NAME_PATTERN} value={name} onChange={(e) => setName(e.target.value)} />
            </div>
            <p className="muted">Saving a secret that exists replaces all its keys.</p>
          </div>
          {entries.map((entry, index) => (
            <div className="inline-form" key={index}>
              <div className="field">
                <label htmlFor={`secret-key-${index}`}>Key</label>
                <input id={`secret-key-${index}`} required pattern={KEY_PATTERN} value={entry.key} onChange={(e) => setEntry(index, { key: e.target.value })} />
              </div>
              <div className="field grow">
                <label htmlFor={`secret-value-${index}`}>Value</label>
                <input id={`secret-value-${index}`} type="password" autoComplete="off" value={entry.value} onChange={(e) => setEntry(index, { value: e.target.value })} />
              </div>
              {entries.length > 1 && (
                <button type="button" className="link-button" onClick={() => setEntries((list) => list.filter((_, i) => i !== index))} aria-label={`remove key ${entry.key || index + 1}`}>
                  Remove
                </button>
              )}
            </div>
          ))}
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setEntries((list) => [...list, { key: "", value: "" }])}>
              Add a key
            </button>
            <button type="submit" className="button primary" disabled={save.isPending || chosenTeam === ""}>
              Save
            </button>
          </div>
        </form>
      )}
    </>
  );
}
