/**
 * The home is private to the platform's user in every mode: the folder is 0700 and the files that
 * hold credentials or state (secret.key, cli-token, the SQLite database, the scheduler lock) are
 * 0600. New homes are created so; existing ones are tightened at every start.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";

/** Files of a home that only the platform's user may read, beside the database. */
export const PRIVATE_HOME_FILES = ["secret.key", "cli-token", "scheduler.lock.json"] as const;

/** The SQLite file of a database setting, or null for PostgreSQL and in-memory databases. */
export function sqliteFile(databaseUrl: string): string | null {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return null;
  const path = databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length).replace(/^\/\//, "") : databaseUrl;
  return path === ":memory:" ? null : path;
}

/** Creates the home (0700) and tightens what an older version left readable to others. */
export function ensurePrivateHome(home: string, databaseUrl: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  for (const name of PRIVATE_HOME_FILES) tighten(join(home, name));
  const database = sqliteFile(databaseUrl);
  if (database) {
    mkdirSync(dirname(database), { recursive: true, mode: 0o700 });
    // Created empty and owner-only before SQLite opens it: SQLite gives its -wal and -shm files the
    // mode of the database file.
    if (!existsSync(database)) closeSync(openSync(database, "a", 0o600));
    for (const suffix of ["", "-wal", "-shm", "-journal"]) tighten(`${database}${suffix}`);
  }
}

function tighten(path: string): void {
  try {
    chmodSync(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
