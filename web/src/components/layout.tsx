/** The frame of every page: the sidebar with navigation and the signed-in user, and a page header with breadcrumbs and actions. */
import { useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link, NavLink, useNavigate } from "react-router";
import { api } from "../api/client.js";
import { editsAnyTeam, keys, useMe } from "../api/hooks.js";

function Logo() {
  return (
    <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="#2b3a5c" />
      <path d="M9 22V12a7 7 0 0 1 14 0v10" fill="none" stroke="#5eead4" strokeWidth="3" strokeLinecap="round" />
      <circle cx="16" cy="12" r="2.6" fill="#5eead4" />
    </svg>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const me = useMe().data;
  const client = useQueryClient();
  const navigate = useNavigate();
  const signOut = async () => {
    await api("POST", "/api/auth/logout", {}).catch(() => undefined);
    client.clear();
    void navigate("/pipelines");
    await client.invalidateQueries({ queryKey: keys.me });
  };
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <Link to="/pipelines" className="brand">
          <Logo /> <span>Capstan</span>
        </Link>
        <ul>
          <li>
            <NavLink to="/pipelines">Pipelines</NavLink>
          </li>
          <li>
            <NavLink to="/runs">Runs</NavLink>
          </li>
          <li>
            <NavLink to="/pools">Pools</NavLink>
          </li>
          <li>
            <NavLink to="/models">Models</NavLink>
          </li>
          <li>
            <NavLink to="/sandboxes">Sandboxes</NavLink>
          </li>
          <li>
            <NavLink to="/files">Files</NavLink>
          </li>
          {editsAnyTeam(me) && (
            <li>
              <NavLink to="/secrets">Secrets</NavLink>
            </li>
          )}
          <li>
            <NavLink to="/connections">Connections</NavLink>
          </li>
          <li>
            <NavLink to="/account">Account</NavLink>
          </li>
          {me?.admin && (
            <li>
              <NavLink to="/admin">Users &amp; teams</NavLink>
            </li>
          )}
        </ul>
        <div className="sidebar-foot">
          {me && (
            <div className="who" title={me.teams.map((t) => `${t.team}: ${t.role}`).join(", ") || "no teams"}>
              <span className="avatar" aria-hidden="true">
                {(me.display_name ?? me.username).slice(0, 1).toUpperCase()}
              </span>
              <span>
                <strong>{me.display_name ?? me.username}</strong>
                <small>{me.admin ? "admin" : me.teams.map((t) => `${t.team} · ${t.role}`).join(", ") || "no teams yet"}</small>
              </span>
            </div>
          )}
          <button type="button" className="link-button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

export interface Crumb {
  label: string;
  to?: string;
}

export function PageHeader({ title, crumbs, actions, children }: { title: ReactNode; crumbs?: Crumb[]; actions?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-head">
      {crumbs && crumbs.length > 0 && (
        <nav aria-label="Breadcrumb" className="crumbs">
          {crumbs.map((c, i) => (
            <span key={i}>
              {c.to ? <Link to={c.to}>{c.label}</Link> : c.label}
              <span aria-hidden="true"> / </span>
            </span>
          ))}
        </nav>
      )}
      <div className="page-title-row">
        <h1>{title}</h1>
        {actions && <div className="actions">{actions}</div>}
      </div>
      {children}
    </header>
  );
}
