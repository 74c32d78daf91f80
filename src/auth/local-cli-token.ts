/**
 * The token file `capstan up` writes into its home (`<home>/cli-token`, mode 0600) so that CLI
 * commands run against the same home can call its API; it is replaced at every start.
 */
import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where the local CLI token lives in a home. */
export function localCliTokenPath(home: string): string {
  return join(home, "cli-token");
}

/** Writes the token readable by the owner only (created 0600, then renamed into place). */
export function writeLocalCliToken(home: string, token: string): string {
  const path = localCliTokenPath(home);
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: "wx" });
  renameSync(temporary, path);
  return path;
}

/** Removes the token file (when `capstan up` stops and has revoked the token). */
export function removeLocalCliToken(home: string): void {
  rmSync(localCliTokenPath(home), { force: true });
}
