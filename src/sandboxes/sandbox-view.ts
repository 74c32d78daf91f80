/** A sandbox as the API, the CLI and the UI see it: never its runtime facts or its upstream token. */
import type { StoredSandbox } from "../store/index.js";
import type { SandboxSettings } from "./profiles.js";

export interface SandboxView {
  id: string;
  owner: string;
  team: string;
  name: string;
  profile: string;
  backend: string;
  state: StoredSandbox["state"];
  reason: string | null;
  gpus: number;
  createdAt: number;
  startedAt: number | null;
  lastActivity: number;
  idleTimeoutMs: number | null;
  /** When idle culling will stop it if nothing happens (running sandboxes only). */
  stopsAt: number | null;
}

export function sandboxView(row: StoredSandbox, settings: SandboxSettings): SandboxView {
  const idleTimeoutMs = settings.profiles.get(row.profile)?.idleTimeoutMs ?? null;
  return {
    id: row.id,
    owner: row.owner,
    team: row.team,
    name: row.name,
    profile: row.profile,
    backend: row.backend,
    state: row.state,
    reason: row.reason,
    gpus: row.gpus,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    lastActivity: row.lastActivity,
    idleTimeoutMs,
    stopsAt: row.state === "running" && idleTimeoutMs !== null ? row.lastActivity + idleTimeoutMs : null,
  };
}
