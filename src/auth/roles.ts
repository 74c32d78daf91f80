/** Roles in a team, from least to most: viewer (read), editor (trigger, clear, mark, cancel), admin (members, secrets). */

export const TEAM_ROLES = ["viewer", "editor", "admin"] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

/** True when `role` is `least` or above it. */
export function roleAtLeast(role: TeamRole | undefined, least: TeamRole): boolean {
  return role !== undefined && TEAM_ROLES.indexOf(role) >= TEAM_ROLES.indexOf(least);
}

/** What a role lets one do, for messages. */
export const ROLE_ACTIONS: Record<TeamRole, string> = {
  viewer: "see pipelines, runs and logs",
  editor: "trigger, backfill, cancel, clear and mark runs and tasks",
  admin: "manage the team's members and secrets",
};
