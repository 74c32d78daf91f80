/**
 * The interface every sandbox backend implements (local processes, Kubernetes pods), and what the
 * lifecycle service hands it. A backend starts and stops one sandbox, finds it again after a
 * restart, and removes its home; the service decides when, and records every state.
 */
import type { SandboxProfile } from "./profiles.js";

/** What a backend needs to start a sandbox. */
export interface SandboxLaunch {
  id: string;
  owner: string;
  team: string;
  name: string;
  profile: SandboxProfile;
  /** The secret the sandbox's servers must require on every request. */
  token: string;
}

/** Where a running sandbox's sshd answers (reachable from Capstan only), and the user it lets in. */
export interface SandboxSshEndpoint {
  host: string;
  port: number;
  user: string;
  /** The sshd's public host key ("ssh-ed25519 AAAA…"), when Capstan knows it (local sandboxes). */
  hostKey?: string;
}

/**
 * Where a running sandbox answers, and what the backend needs to find it again (kept in the store
 * as JSON). `upstream` is the base URL of JupyterLab, reachable from Capstan only; `ssh` is its
 * sshd, or `sshUnavailable` says why it has none.
 */
export interface SandboxRuntime {
  upstream: string;
  ssh?: SandboxSshEndpoint;
  sshUnavailable?: string;
  [key: string]: unknown;
}

/** Why a running sandbox ended without being asked to. */
export interface SandboxExit {
  id: string;
  reason: string;
}

export interface SandboxBackend {
  readonly kind: "local" | "kubernetes";
  /** Starts the sandbox and resolves once JupyterLab answers; rejects with SandboxStartError. */
  start(launch: SandboxLaunch, signal?: AbortSignal): Promise<SandboxRuntime>;
  /** Stops everything of the sandbox (kernels and terminals too); its home stays. Idempotent. */
  stop(id: string, runtime: SandboxRuntime | null): Promise<void>;
  /** After a restart of Capstan: true when the sandbox recorded with `runtime` still runs (it is watched again). */
  adopt(id: string, runtime: SandboxRuntime): Promise<boolean>;
  /** Removes the sandbox's home for good. */
  removeHome(id: string): Promise<void>;
  /** Tells the service when a running sandbox ends on its own (crash, killed). */
  onExit(listener: (exit: SandboxExit) => void): void;
  /** Stops watching (does not stop sandboxes: they outlive Capstan and are adopted). */
  close(): Promise<void>;
}
