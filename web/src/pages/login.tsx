/** Sign-in: username and password; a session cookie follows, and the page the user asked for opens. */
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, setCsrfToken } from "../api/client.js";
import { keys } from "../api/hooks.js";
import type { Me } from "../api/types.js";
import { ErrorNote } from "../components/feedback.js";

export function LoginPage() {
  const client = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const me = await api<Me>("POST", "/api/auth/login", { username, password });
      setCsrfToken(me.csrf_token);
      client.setQueryData(keys.me, me);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="login-page">
      <form className="login-card" onSubmit={(e) => void submit(e)}>
        <div className="login-brand">
          <svg viewBox="0 0 32 32" width="40" height="40" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#2b3a5c" />
            <path d="M9 22V12a7 7 0 0 1 14 0v10" fill="none" stroke="#5eead4" strokeWidth="3" strokeLinecap="round" />
            <circle cx="16" cy="12" r="2.6" fill="#5eead4" />
          </svg>
          <h1>Sign in to Capstan</h1>
        </div>
        <div className="field">
          <label htmlFor="username">Username</label>
          <input id="username" name="username" autoComplete="username" autoFocus required value={username} onChange={(e) => setUsername(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        <ErrorNote error={error} />
        <button type="submit" className="button primary wide" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">
          The first start of <code>capstan up</code> prints the admin&apos;s one-time password. Scripts use API tokens instead (<code>capstan login</code>).
        </p>
      </form>
    </div>
  );
}
