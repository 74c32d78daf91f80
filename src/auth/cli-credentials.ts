/**
 * Credentials saved by `capstan login`: one API token per server URL, in
 * `$CAPSTAN_CREDENTIALS` or `$XDG_CONFIG_HOME/capstan/credentials.json` (default ~/.config), mode 0600.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface SavedCredential {
  username: string;
  token: string;
  /** The token's id on the server, for `capstan logout` to revoke it. */
  tokenId: string;
  savedAt: string;
}

interface CredentialsFile {
  servers: Record<string, SavedCredential>;
}

/** The credentials file of this user. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CAPSTAN_CREDENTIALS) return env.CAPSTAN_CREDENTIALS;
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), ".config");
  return join(base, "capstan", "credentials.json");
}

/** The key a server URL is saved under: scheme, host, port and path without a trailing slash. */
export function serverKey(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
}

function read(path: string): CredentialsFile {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<CredentialsFile>;
    return { servers: parsed.servers && typeof parsed.servers === "object" ? parsed.servers : {} };
  } catch {
    return { servers: {} };
  }
}

function write(path: string, file: CredentialsFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  renameSync(temporary, path);
}

/** The saved credential for a server, if any. */
export function savedCredential(url: string, env: NodeJS.ProcessEnv = process.env): SavedCredential | undefined {
  try {
    return read(credentialsPath(env)).servers[serverKey(url)];
  } catch {
    return undefined;
  }
}

export function saveCredential(url: string, credential: SavedCredential, env: NodeJS.ProcessEnv = process.env): string {
  const path = credentialsPath(env);
  const file = read(path);
  file.servers[serverKey(url)] = credential;
  write(path, file);
  return path;
}

/** Forgets the server's credential; returns it when there was one. */
export function forgetCredential(url: string, env: NodeJS.ProcessEnv = process.env): SavedCredential | undefined {
  const path = credentialsPath(env);
  const file = read(path);
  const key = serverKey(url);
  const previous = file.servers[key];
  if (!previous) return undefined;
  delete file.servers[key];
  write(path, file);
  return previous;
}

/** True when two URLs name the same server (false when either is not a URL). */
export function sameServer(a: string, b: string): boolean {
  try {
    return serverKey(a) === serverKey(b);
  } catch {
    return false;
  }
}
