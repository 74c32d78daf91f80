/** Team secrets: names and keys are listed (never values) to the teams' editors; values are write-only. */
import type { SecretSummary } from "./views.js";
import { NotFoundError } from "../scheduler/index.js";
import type { OperationsContext, Viewer } from "./context.js";

/** Secrets of the teams the viewer edits (all teams, or `team` alone). */
export async function listSecrets(ctx: OperationsContext, viewer: Viewer, team?: string): Promise<SecretSummary[]> {
  const list = await ctx.secrets.list(team);
  return list.filter((s) => viewer.canEdit(s.team)).map((s) => ({ team: s.team, name: s.name, keys: s.keys, updated_at: new Date(s.updatedAt).toISOString() }));
}

/** Creates or replaces a secret. */
export async function setSecret(ctx: OperationsContext, team: string, name: string, data: Record<string, string>): Promise<SecretSummary> {
  await ctx.secrets.set(team, name, data);
  return { team, name, keys: Object.keys(data), updated_at: new Date().toISOString() };
}

/** Deletes a secret. */
export async function deleteSecret(ctx: OperationsContext, team: string, name: string): Promise<void> {
  if (!(await ctx.secrets.delete(team, name))) throw new NotFoundError(`team ${team} has no secret ${JSON.stringify(name)}`);
}
