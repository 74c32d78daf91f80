/** The signed-in user: teams and roles, password change, and API tokens (created with the secret shown once, revoked at once). */
import { useState, type FormEvent } from "react";
import { api, seg } from "../api/client.js";
import { keys, useAction, useMe, useTokens } from "../api/hooks.js";
import type { ApiToken, RequestBody } from "../api/types.js";
import { ErrorNote, Loading } from "../components/feedback.js";
import { PageHeader } from "../components/layout.js";
import { dateTime, relative } from "../format.js";

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [done, setDone] = useState(false);
  const change = useAction((body: { current_password: string; new_password: string }) => api("POST", "/api/auth/password", body), () => []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    change.mutate(
      { current_password: current, new_password: next },
      {
        onSuccess: () => {
          setDone(true);
          setCurrent("");
          setNext("");
        },
      },
    );
  };
  return (
    <form className="panel form" onSubmit={submit} aria-label="Change password">
      <h2>Password</h2>
      <div className="field">
        <label htmlFor="current-password">Current password</label>
        <input id="current-password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="new-password">New password</label>
        <input id="new-password" type="password" autoComplete="new-password" minLength={10} required value={next} onChange={(e) => setNext(e.target.value)} />
        <small className="help">At least 10 characters. Your other sessions end.</small>
      </div>
      <ErrorNote error={change.error} />
      {done && (
        <div className="note" role="status">
          Password changed.
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={change.isPending}>
          Change password
        </button>
      </div>
    </form>
  );
}

function Tokens() {
  const tokens = useTokens();
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const [created, setCreated] = useState<ApiToken | undefined>();
  const create = useAction((body: RequestBody<"/api/tokens", "post">) => api<ApiToken>("POST", "/api/tokens", body), () => [keys.tokens]);
  const revoke = useAction((id: string) => api("DELETE", `/api/tokens/${seg(id)}`), () => [keys.tokens]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name, ...(days ? { expires_in_days: Number(days) } : {}) }, { onSuccess: (token) => (setCreated(token), setName("")) });
  };
  return (
    <section className="panel" aria-label="API tokens">
      <h2>API tokens</h2>
      <p className="muted small">
        Scripts and the CLI send a token as <code>Authorization: Bearer …</code>. <code>capstan login --server URL</code> creates one for you.
      </p>
      {created?.token && (
        <div className="token-created" role="status">
          <strong>Copy the token now; it is not shown again.</strong>
          <div className="copy-row">
            <code data-testid="new-token">{created.token}</code>
            <button type="button" className="button" onClick={() => void navigator.clipboard?.writeText(created.token ?? "")}>
              Copy
            </button>
          </div>
        </div>
      )}
      <form className="form inline-form" onSubmit={submit}>
        <div className="field grow">
          <label htmlFor="token-name">Name</label>
          <input id="token-name" required maxLength={100} placeholder="what uses it, e.g. nightly export" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="token-days">Expires after</label>
          <select id="token-days" value={days} onChange={(e) => setDays(e.target.value)}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="365">1 year</option>
            <option value="">never</option>
          </select>
        </div>
        <button type="submit" className="button primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      <ErrorNote error={create.error ?? revoke.error ?? tokens.error} />
      {tokens.isLoading && <Loading what="tokens" />}
      {tokens.data && tokens.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id} className={t.state !== "active" ? "dim" : ""}>
                <td>{t.name}</td>
                <td>
                  <span className={`tag token-${t.state}`}>{t.state}</span>
                </td>
                <td>{dateTime(t.created_at)}</td>
                <td>{t.expires_at ? dateTime(t.expires_at) : "never"}</td>
                <td>{relative(t.last_used_at)}</td>
                <td>
                  {t.state === "active" && (
                    <button type="button" className="link-button danger" onClick={() => window.confirm(`Revoke token "${t.name}"? It stops working at once.`) && revoke.mutate(t.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function AccountPage() {
  const me = useMe().data;
  if (!me) return <Loading what="your account" />;
  return (
    <>
      <PageHeader title={me.display_name ?? me.username} crumbs={[{ label: "Account" }]} />
      <dl className="facts">
        <div>
          <dt>Username</dt>
          <dd>{me.username}</dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>{me.admin ? "admin (all teams)" : "member"}</dd>
        </div>
        <div>
          <dt>Teams</dt>
          <dd>{me.teams.length === 0 ? "none yet" : me.teams.map((t) => `${t.team} (${t.role})`).join(", ")}</dd>
        </div>
        <div>
          <dt>Session ends</dt>
          <dd>{dateTime(me.expires_at)}</dd>
        </div>
      </dl>
      <div className="two-columns">
        {me.kind === "person" && <PasswordForm />}
        <Tokens />
      </div>
    </>
  );
}
