/**
 * The sandbox state machine: stopped → starting → running → stopping → stopped, and failed (with a
 * reason) from any state that runs something. `moveSandbox` is the one place a sandbox changes
 * state; it refuses moves the machine does not allow and loses, without harm, to a concurrent move.
 */
import type { Repositories, SandboxPatch, SandboxState } from "../store/index.js";
import { SandboxConflictError } from "./errors.js";

const MOVES: Record<SandboxState, readonly SandboxState[]> = {
  stopped: ["starting"],
  starting: ["running", "stopping", "failed"],
  running: ["stopping", "failed"],
  stopping: ["stopped", "failed"],
  failed: ["starting", "stopping", "stopped"],
};

/** True when the state machine allows `from` → `to`. */
export function canMove(from: SandboxState, to: SandboxState): boolean {
  return MOVES[from].includes(to);
}

/** States a sandbox may be deleted in: nothing of it runs. */
export const DELETABLE_STATES: readonly SandboxState[] = ["stopped", "failed"];
/** States in which the backend may hold processes or pods of the sandbox. */
export const ACTIVE_STATES: readonly SandboxState[] = ["starting", "running", "stopping"];

/**
 * Moves a sandbox from one of `from` (each must allow `to`) to `to`. Returns false when the sandbox
 * was not in `from` any more: another caller moved it first.
 */
export async function moveSandbox(repos: Repositories, id: string, from: readonly SandboxState[], to: SandboxState, patch: SandboxPatch, now: number): Promise<boolean> {
  const allowed = from.filter((state) => canMove(state, to));
  if (allowed.length === 0) throw new SandboxConflictError(`a sandbox cannot go from ${from.join(" or ")} to ${to}`);
  return repos.sandboxes.move(id, allowed, to, patch, now);
}
