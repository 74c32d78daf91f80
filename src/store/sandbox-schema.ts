/** The sandboxes table: one row per sandbox, with its state, its backend's runtime facts and its upstream token. */

export const SANDBOX_STATES = ["stopped", "starting", "running", "stopping", "failed"] as const;
export type SandboxState = (typeof SANDBOX_STATES)[number];

export interface SandboxesTable {
  id: string;
  owner: string;
  team: string;
  name: string;
  profile: string;
  backend: string;
  state: SandboxState;
  /** Why it failed (image pull, unschedulable, quota, crash), or null. */
  reason: string | null;
  /** GPUs the profile asked for when it last started (counted against the team's quota while running). */
  gpus: number;
  /** What the backend needs to find the running sandbox again (JSON), or null when stopped. */
  runtime: string | null;
  /** The secret the upstream servers require; only Capstan holds it. */
  upstreamToken: string;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  /** The owner's last authenticated traffic or the kernels' last activity (epoch ms). */
  lastActivity: number;
}
