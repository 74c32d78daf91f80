/**
 * Sandboxes: one's own JupyterLab sandboxes and the team's, with state, reason, last activity and
 * when idle culling stops them; a create form with the admins' profiles; start, stop, delete (with
 * the name as confirmation) and Open JupyterLab, which goes to the sandbox's own origin through a
 * one-time code.
 */
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, seg } from "../api/client.js";
import { useAction, useMe } from "../api/hooks.js";
import type { components } from "../api/openapi.gen.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { dateTime, relative } from "../format.js";

type Sandbox = components["schemas"]["SandboxView"];
type Profile = components["schemas"]["SandboxProfile"];

const sandboxKeys = { list: ["sandboxes"] as const, profiles: ["sandbox-profiles"] as const };
const BADGE: Record<Sandbox["state"], string> = { stopped: "st-none", starting: "st-queued", running: "st-running", stopping: "st-queued", failed: "st-failed" };

function SandboxState({ sandbox }: { sandbox: Sandbox }) {
  return (
    <span className={`badge ${BADGE[sandbox.state]}`} data-state={sandbox.state}>
      {sandbox.state}
    </span>
  );
}

export function SandboxesPage() {
  const me = useMe().data;
  const sandboxes = useQuery({
    queryKey: sandboxKeys.list,
    queryFn: () => api<{ sandboxes: Sandbox[] }>("GET", "/api/sandboxes"),
    // While one is starting or stopping, look again soon; otherwise now and then for last activity.
    refetchInterval: (query) => (query.state.data?.sandboxes.some((s) => s.state === "starting" || s.state === "stopping") ? 1000 : 15_000),
  });
  const profiles = useQuery({ queryKey: sandboxKeys.profiles, queryFn: () => api<{ profiles: Profile[] }>("GET", "/api/sandboxes/profiles") });
  const refresh = () => [sandboxKeys.list];
  const create = useAction((input: { name: string; team?: string; profile?: string }) => api<Sandbox>("POST", "/api/sandboxes", input), refresh);
  const start = useAction((id: string) => api<Sandbox>("POST", `/api/sandboxes/${seg(id)}/start?wait=false`), refresh);
  const stop = useAction((id: string) => api<Sandbox>("POST", `/api/sandboxes/${seg(id)}/stop`), refresh);
  const remove = useAction((input: { id: string; confirm: string }) => api("DELETE", `/api/sandboxes/${seg(input.id)}`, { confirm: input.confirm }), refresh);
  const [openError, setOpenError] = useState<unknown>(null);

  const editorTeams = (me?.teams ?? []).filter((t) => t.role !== "viewer").map((t) => t.team);
  const [name, setName] = useState("");
  const [team, setTeam] = useState("");
  const [profile, setProfile] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const chosenTeam = team || editorTeams[0];
    create.mutate({ name, ...(chosenTeam ? { team: chosenTeam } : {}), ...(profile ? { profile } : {}) }, { onSuccess: () => setName("") });
  };

  /** Opens JupyterLab in a new tab: the tab is opened on the click (no popup blocker) and sent to the one-time URL. */
  const open = (sandbox: Sandbox) => {
    setOpenError(null);
    const tab = window.open("", "_blank");
    if (tab) tab.opener = null;
    api<{ url: string }>("POST", `/api/sandboxes/${seg(sandbox.id)}/open`).then(
      ({ url }) => {
        if (tab) tab.location.href = url;
        else window.location.href = url;
      },
      (error: unknown) => {
        tab?.close();
        setOpenError(error);
      },
    );
  };

  const mine = sandboxes.data?.sandboxes.filter((s) => s.owner === me?.username) ?? [];
  const others = sandboxes.data?.sandboxes.filter((s) => s.owner !== me?.username) ?? [];

  const table = (list: Sandbox[], own: boolean, label: string) => (
    <table className="table" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          {!own && <th scope="col">Owner</th>}
          <th scope="col">Team</th>
          <th scope="col">Profile</th>
          <th scope="col">State</th>
          <th scope="col">Last activity</th>
          <th scope="col">Stops when idle</th>
          <th scope="col">GPU</th>
          {(own || me?.admin) && <th scope="col" />}
        </tr>
      </thead>
      <tbody>
        {list.map((s) => (
          <tr key={s.id} data-sandbox={s.name}>
            <td className="strong" title={s.id}>
              {s.name}
            </td>
            {!own && <td>{s.owner}</td>}
            <td>{s.team}</td>
            <td>{s.profile}</td>
            <td>
              <SandboxState sandbox={s} />
              {s.reason && <div className="muted small reason">{s.reason}</div>}
            </td>
            <td title={dateTime(s.last_activity)}>{relative(s.last_activity)}</td>
            <td>{s.stops_at ? dateTime(s.stops_at) : ""}</td>
            <td>{s.gpus > 0 ? s.gpus : ""}</td>
            {(own || me?.admin) && (
              <td className="actions">
                {own && s.state === "running" && (
                  <button type="button" className="button primary" onClick={() => open(s)}>
                    Open JupyterLab
                  </button>
                )}{" "}
                {own && (s.state === "stopped" || s.state === "failed") && (
                  <button type="button" className="button" disabled={start.isPending} onClick={() => start.mutate(s.id)}>
                    Start
                  </button>
                )}{" "}
                {(s.state === "running" || s.state === "starting" || s.state === "failed") && (
                  <button type="button" className="button" disabled={stop.isPending} onClick={() => stop.mutate(s.id)}>
                    Stop
                  </button>
                )}{" "}
                {(s.state === "stopped" || s.state === "failed") && (
                  <button
                    type="button"
                    className="link-button danger"
                    onClick={() => {
                      const typed = window.prompt(`Deleting ${s.name} removes its home and every file in it. Type its name to delete it:`);
                      if (typed !== null) remove.mutate({ id: s.id, confirm: typed });
                    }}
                  >
                    Delete
                  </button>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );

  return (
    <>
      <PageHeader title="Sandboxes" />
      <p className="lead muted">Your JupyterLab with a home folder that is kept when it stops. A sandbox stops by itself after its profile's idle time without your activity.</p>
      <ErrorNote error={sandboxes.error ?? profiles.error ?? create.error ?? start.error ?? stop.error ?? remove.error ?? openError} />
      {sandboxes.isLoading && <Loading what="sandboxes" />}
      <h2>My sandboxes</h2>
      {sandboxes.data && (mine.length > 0 ? table(mine, true, "My sandboxes") : <p className="muted">You have no sandbox yet.</p>)}
      {editorTeams.length > 0 && (
        <form className="panel form inline-form" onSubmit={submit} aria-label="New sandbox">
          <h2>New sandbox</h2>
          <div className="field">
            <label htmlFor="sandbox-name">Name</label>
            <input id="sandbox-name" required pattern="[a-z]([a-z0-9\-]{0,30}[a-z0-9])?" title="1–32 lowercase letters, digits and '-'" value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          {editorTeams.length > 1 && (
            <div className="field">
              <label htmlFor="sandbox-team">Team</label>
              <select id="sandbox-team" value={team || editorTeams[0]} onChange={(e) => setTeam(e.target.value)}>
                {editorTeams.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </div>
          )}
          <div className="field">
            <label htmlFor="sandbox-profile">Profile</label>
            <select id="sandbox-profile" value={profile || (profiles.data?.profiles.find((p) => p.default)?.name ?? "")} onChange={(e) => setProfile(e.target.value)}>
              {profiles.data?.profiles.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                  {p.description ? ` — ${p.description}` : ""}
                  {p.gpu > 0 ? ` (${p.gpu} GPU)` : ""}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="button primary" disabled={create.isPending}>
            Create
          </button>
        </form>
      )}
      {others.length > 0 && (
        <>
          <h2>My teams' sandboxes</h2>
          {table(others, false, "Team sandboxes")}
        </>
      )}
    </>
  );
}
