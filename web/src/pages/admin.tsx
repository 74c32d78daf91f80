/** Users and teams, for admins: create users (a generated password is shown once), make admins, disable, and manage team members and roles. */
import { useState, type FormEvent } from "react";
import { api, seg } from "../api/client.js";
import { keys, useAction, useTeams, useUsers } from "../api/hooks.js";
import type { Answer, RequestBody, Role, User } from "../api/types.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";

const ROLES: Role[] = ["viewer", "editor", "admin"];

function NewUser() {
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [admin, setAdmin] = useState(false);
  const [result, setResult] = useState<{ user: User; password?: string } | undefined>();
  const create = useAction((body: RequestBody<"/api/users", "post">) => api<Answer<"/api/users", "post", 201>>("POST", "/api/users", body), () => [keys.users]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ username, ...(displayName ? { display_name: displayName } : {}), admin }, { onSuccess: (r) => (setResult(r), setUsername(""), setDisplayName("")) });
  };
  return (
    <form className="panel form" onSubmit={submit} aria-label="New user">
      <h2>New user</h2>
      <div className="field">
        <label htmlFor="new-username">Username</label>
        <input id="new-username" required pattern="[a-z][a-z0-9._\-]{0,62}" value={username} onChange={(e) => setUsername(e.target.value)} />
        <small className="help">Lowercase letters, digits, . _ -</small>
      </div>
      <div className="field">
        <label htmlFor="new-display">Display name</label>
        <input id="new-display" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
      </div>
      <label className="check">
        <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> Admin (sees and does everything)
      </label>
      <ErrorNote error={create.error} />
      {result?.password && (
        <div className="token-created" role="status">
          <strong>
            {result.user.username}&apos;s password, shown once: <code data-testid="new-password">{result.password}</code>
          </strong>
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={create.isPending}>
          Create user
        </button>
      </div>
    </form>
  );
}

function Users() {
  const users = useUsers(true);
  const update = useAction((input: { username: string; patch: Record<string, unknown> }) => api("PATCH", `/api/users/${seg(input.username)}`, input.patch), () => [keys.users]);
  const remove = useAction((username: string) => api("DELETE", `/api/users/${seg(username)}`), () => [keys.users]);
  return (
    <section className="panel" aria-label="Users">
      <h2>Users</h2>
      <ErrorNote error={users.error ?? update.error ?? remove.error} />
      {users.isLoading && <Loading what="users" />}
      {users.data && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Teams</th>
              <th scope="col">Admin</th>
              <th scope="col">Enabled</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {users.data.map((u) => (
              <tr key={u.username} className={u.disabled ? "dim" : ""}>
                <td>
                  <strong>{u.username}</strong> {u.display_name && <span className="muted">{u.display_name}</span>}
                  {u.kind === "service" && <span className="tag">service</span>}
                </td>
                <td>{u.teams.map((t) => `${t.team} (${t.role})`).join(", ") || <span className="muted">—</span>}</td>
                <td>
                  <input type="checkbox" aria-label={`${u.username} is admin`} checked={u.admin} onChange={(e) => update.mutate({ username: u.username, patch: { admin: e.target.checked } })} />
                </td>
                <td>
                  <input type="checkbox" aria-label={`${u.username} is enabled`} checked={!u.disabled} onChange={(e) => update.mutate({ username: u.username, patch: { disabled: !e.target.checked } })} />
                </td>
                <td>
                  <button type="button" className="link-button danger" onClick={() => window.confirm(`Delete ${u.username} with their tokens and sessions?`) && remove.mutate(u.username)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Teams() {
  const teams = useTeams();
  const users = useUsers(true);
  const [teamName, setTeamName] = useState("");
  const [member, setMember] = useState<Record<string, { username: string; role: Role }>>({});
  const createTeam = useAction((name: string) => api("POST", "/api/teams", { name }), () => [keys.teams]);
  const setRole = useAction((input: { team: string; username: string; role: Role }) => api("PUT", `/api/teams/${seg(input.team)}/members/${seg(input.username)}`, { role: input.role }), () => [keys.teams, keys.users]);
  const removeMember = useAction((input: { team: string; username: string }) => api("DELETE", `/api/teams/${seg(input.team)}/members/${seg(input.username)}`), () => [keys.teams, keys.users]);
  return (
    <section className="panel" aria-label="Teams">
      <h2>Teams</h2>
      <p className="muted small">Pipelines belong to the team named by their file&apos;s team: field. Viewers see them, editors run and repair them, team admins manage members and secrets.</p>
      <ErrorNote error={teams.error ?? createTeam.error ?? setRole.error ?? removeMember.error} />
      {teams.data?.map((team) => {
        const draft = member[team.name] ?? { username: "", role: "viewer" as Role };
        return (
          <div className="team-block" key={team.name}>
            <h3>
              {team.name} <span className="muted small">{team.pipelines.length} pipelines</span>
            </h3>
            <ul className="members">
              {(team.members ?? []).map((m) => (
                <li key={m.username}>
                  <span>{m.username}</span>
                  <select aria-label={`role of ${m.username} in ${team.name}`} value={m.role} onChange={(e) => setRole.mutate({ team: team.name, username: m.username, role: e.target.value as Role })}>
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                  <button type="button" className="link-button danger" onClick={() => removeMember.mutate({ team: team.name, username: m.username })}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                if (draft.username) setRole.mutate({ team: team.name, ...draft });
              }}
            >
              <select aria-label={`user to add to ${team.name}`} value={draft.username} onChange={(e) => setMember({ ...member, [team.name]: { ...draft, username: e.target.value } })}>
                <option value="">add a member…</option>
                {(users.data ?? [])
                  .filter((u) => !(team.members ?? []).some((m) => m.username === u.username))
                  .map((u) => (
                    <option key={u.username}>{u.username}</option>
                  ))}
              </select>
              <select aria-label="role" value={draft.role} onChange={(e) => setMember({ ...member, [team.name]: { ...draft, role: e.target.value as Role } })}>
                {ROLES.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
              <button type="submit" className="button" disabled={!draft.username}>
                Add
              </button>
            </form>
          </div>
        );
      })}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          createTeam.mutate(teamName, { onSuccess: () => setTeamName("") });
        }}
      >
        <input aria-label="new team name" placeholder="new team" required value={teamName} onChange={(e) => setTeamName(e.target.value)} />
        <button type="submit" className="button">
          Create team
        </button>
      </form>
    </section>
  );
}

export function AdminPage() {
  return (
    <>
      <PageHeader title="Users & teams" />
      <div className="two-columns">
        <NewUser />
        <Teams />
      </div>
      <Users />
    </>
  );
}
