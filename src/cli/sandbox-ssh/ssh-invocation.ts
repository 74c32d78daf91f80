/**
 * How `capstan sandbox ssh` runs the system `ssh`: the ProxyCommand that calls `capstan sandbox
 * tunnel`, the sandbox's user, its host key pinned from the API when Capstan knows it (in a
 * known_hosts file beside the CLI's credentials), and the `~/.ssh/config` block that VS Code
 * Remote-SSH users copy.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { credentialsPath } from "../../auth/index.js";

/** The host name ssh and VS Code know a sandbox by. */
export function sshHostName(sandboxName: string): string {
  return `capstan-${sandboxName}`;
}

/** The alias its host key is recorded under (the id: a sandbox recreated with the same name has a new key). */
export function hostKeyAlias(sandboxId: string): string {
  return `capstan-sandbox-${sandboxId}`;
}

/** Quotes a word for the shell ssh runs the ProxyCommand with, and escapes ssh's own `%` tokens. */
function shellWord(word: string): string {
  const quoted = /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
  return quoted.replaceAll("%", "%%");
}

/** The ProxyCommand: this capstan (or `capstan` on PATH) with the same server, tunnelling to the sandbox. */
export function proxyCommand(capstan: readonly string[], server: string | undefined, sandbox: string): string {
  return [...capstan, ...(server ? ["--server", server] : []), "sandbox", "tunnel", sandbox].map(shellWord).join(" ");
}

/** The known_hosts file of sandboxes' host keys that Capstan pins. */
export function knownHostsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(credentialsPath(env)), "known_hosts");
}

/** Records `hostKey` for `alias` (replacing an earlier key of that alias); returns the file. */
export function pinHostKey(alias: string, hostKey: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = knownHostsPath(env);
  let lines: string[] = [];
  try {
    lines = readFileSync(file, "utf8").split("\n").filter((line) => line.trim() !== "" && line.split(" ")[0] !== alias);
  } catch {
    // none yet
  }
  const [type, key] = hostKey.split(/\s+/);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, [...lines, `${alias} ${type ?? ""} ${key ?? ""}`].join("\n") + "\n", { mode: 0o600 });
  return file;
}

export interface SshArgvOptions {
  sandboxId: string;
  sandboxName: string;
  user: string;
  proxyCommand: string;
  /** The pinned known_hosts file, when the host key is known; else the first key seen is accepted and kept. */
  knownHosts: string | undefined;
  identity?: string | undefined;
  /** The caller's own `-o` options (they come first, so they win). */
  options: readonly string[];
  command: readonly string[];
}

/** The argv of `ssh` for a sandbox. */
export function sshArgv(options: SshArgvOptions): string[] {
  return [
    ...options.options.flatMap((option) => ["-o", option]),
    ...(options.identity ? ["-i", options.identity] : []),
    "-o",
    `ProxyCommand=${options.proxyCommand}`,
    "-o",
    `HostKeyAlias=${hostKeyAlias(options.sandboxId)}`,
    ...(options.knownHosts ? ["-o", `UserKnownHostsFile=${options.knownHosts}`, "-o", "StrictHostKeyChecking=yes"] : ["-o", "StrictHostKeyChecking=accept-new"]),
    "-l",
    options.user,
    sshHostName(options.sandboxName),
    ...(options.command.length > 0 ? ["--", ...options.command] : []),
  ];
}

/** The ~/.ssh/config block for VS Code Remote-SSH (and plain `ssh capstan-NAME`). */
export function sshConfigBlock(options: { sandboxId: string; sandboxName: string; user: string; proxyCommand: string; knownHosts: string | undefined }): string {
  return [
    `Host ${sshHostName(options.sandboxName)}`,
    `  User ${options.user}`,
    `  ProxyCommand ${options.proxyCommand}`,
    `  HostKeyAlias ${hostKeyAlias(options.sandboxId)}`,
    ...(options.knownHosts ? [`  UserKnownHostsFile ${options.knownHosts}`, "  StrictHostKeyChecking yes"] : ["  StrictHostKeyChecking accept-new"]),
    "",
  ].join("\n");
}
