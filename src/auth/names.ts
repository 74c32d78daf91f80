/**
 * Usernames and team names: lowercase ASCII only, so names that differ by case or by look-alike
 * unicode can never be two accounts that map to one thing elsewhere (volumes, pods, URLs).
 */
import { AuthInputError } from "./errors.js";

const USERNAME = /^[a-z][a-z0-9._-]{0,62}$/;
/** Team names follow pipeline ids' `team:` field: letters, digits, '_', '-', '.', up to 63. */
const TEAM = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Returns the username or throws AuthInputError saying what is accepted. */
export function checkUsername(name: string): string {
  if (!USERNAME.test(name)) {
    throw new AuthInputError("username", `username ${JSON.stringify(name)} is not valid: use 1–63 lowercase letters, digits, '.', '_' or '-', starting with a letter`);
  }
  return name;
}

/** Returns the team name or throws AuthInputError saying what is accepted. */
export function checkTeamName(name: string): string {
  if (!TEAM.test(name)) {
    throw new AuthInputError("team", `team name ${JSON.stringify(name)} is not valid: use 1–63 letters, digits, '_', '-' or '.', starting with a letter or digit`);
  }
  return name;
}

export const USERNAME_PATTERN = USERNAME.source;
export const TEAM_PATTERN = TEAM.source;
