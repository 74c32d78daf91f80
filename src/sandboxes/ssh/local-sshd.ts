/**
 * A local sandbox's sshd (Debian's openssh-server), so VS Code Remote-SSH and `capstan sandbox ssh`
 * reach the sandbox through Capstan's tunnel: one sshd per sandbox on a free 127.0.0.1 port, running
 * as Capstan's own user, with a host key of its own in the sandbox's runtime folder (kept across
 * starts, so clients see the same key), keys only (the home's `~/.ssh/authorized_keys`), no
 * passwords, and sessions that start in the sandbox's home with its environment.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { processStartTime } from "../../executors/local/index.js";
import type { SandboxSshEndpoint } from "../backend.js";

const execFileAsync = promisify(execFile);

/** Where Debian's openssh-server puts sshd (CAPSTAN_SSHD overrides it). */
export function sshdPath(): string {
  return process.env.CAPSTAN_SSHD ?? "/usr/sbin/sshd";
}

/** The sftp server of the same package, where it is installed. */
function sftpServerPath(): string | undefined {
  return ["/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/libexec/sftp-server"].find((path) => existsSync(path));
}

/** The files of a sandbox's sshd, in its runtime folder (never in the home). */
export interface SshdFiles {
  dir: string;
  hostKey: string;
  config: string;
  session: string;
  pidFile: string;
  log: string;
}

export function sshdFiles(runDir: string): SshdFiles {
  const dir = join(runDir, "sshd");
  return {
    dir,
    hostKey: join(dir, "ssh_host_ed25519_key"),
    config: join(dir, "sshd_config"),
    session: join(dir, "session.sh"),
    pidFile: join(dir, "sshd.pid"),
    log: join(dir, "sshd.log"),
  };
}

/** A running local sshd: where it answers, and what finds its process again. */
export interface LocalSshd extends SandboxSshEndpoint {
  pid: number;
  pidStart: number | null;
}

/** Variables of the sandbox's environment that SSH sessions get too (HOME, PATH with the venv, the marker). */
const SESSION_VARIABLES = ["HOME", "PATH", "LANG", "LC_ALL", "TZ", "CAPSTAN_SANDBOX_ID", "CAPSTAN_ATTEMPT_TOKEN"];

/** A value sshd_config can hold between double quotes. */
function quoted(what: string, value: string): string {
  if (/["\\\n\r]/.test(value)) throw new Error(`${what} ${JSON.stringify(value)} cannot go into an sshd configuration (quotes, backslashes and newlines are refused)`);
  return `"${value}"`;
}

/** The sshd_config of one sandbox. */
export function sshdConfig(options: { port: number; user: string; home: string; files: SshdFiles; env: Record<string, string> }): string {
  const { files } = options;
  const setEnv = SESSION_VARIABLES.filter((name) => options.env[name] !== undefined).map((name) => quoted("the variable", `${name}=${options.env[name]!}`));
  const sftp = sftpServerPath();
  if (/'/.test(files.session)) throw new Error(`the path ${JSON.stringify(files.session)} cannot go into ForceCommand (it holds a single quote)`);
  return [
    "# Written by Capstan for one sandbox; sshd runs as Capstan's user, reached only through Capstan's tunnel.",
    `Port ${options.port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${quoted("the host key", files.hostKey)}`,
    `PidFile ${quoted("the pid file", files.pidFile)}`,
    `AllowUsers ${options.user}`,
    // Keys only: the sandbox's own home holds them.
    `AuthorizedKeysFile ${quoted("the keys file", join(options.home, ".ssh", "authorized_keys"))}`,
    "AuthenticationMethods publickey",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "HostbasedAuthentication no",
    "PermitEmptyPasswords no",
    ...(options.user === "root" ? ["PermitRootLogin prohibit-password"] : []),
    "UsePAM no",
    // StrictModes checks every folder up to / (a Capstan home under /tmp fails it); the home is 0700 and
    // only the sandbox's user, who owns the keys file anyway, can write it.
    "StrictModes no",
    "PermitUserEnvironment no",
    "MaxAuthTries 3",
    "LoginGraceTime 30",
    // VS Code Remote-SSH forwards a local port to its server in the sandbox; nothing else is offered.
    "AllowTcpForwarding local",
    "AllowStreamLocalForwarding no",
    "GatewayPorts no",
    "X11Forwarding no",
    "PermitTunnel no",
    "PrintMotd no",
    "PrintLastLog no",
    "ClientAliveInterval 60",
    // Sessions get the sandbox's HOME, PATH and marker (so a stop ends them), and start in the home.
    ...(setEnv.length > 0 ? [`SetEnv ${setEnv.join(" ")}`] : []),
    `ForceCommand /bin/sh '${files.session}'`,
    ...(sftp ? [`Subsystem sftp ${sftp}`] : []),
    "",
  ].join("\n");
}

/** Runs what the client asked for (a command, the sftp server, or a login shell) in the sandbox's home. */
export const SESSION_SCRIPT = [
  "#!/bin/sh",
  "# Written by Capstan: an SSH session of a sandbox starts in its home.",
  'cd "$HOME" || exit 1',
  'if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"; fi',
  'exec "${SHELL:-/bin/sh}" -l',
  "",
].join("\n");

/** The OS user sshd runs as, and the only one it lets in. */
export function sshUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.getuid?.() === 0 ? "root" : "user";
  }
}

/** The host key's public half ("ssh-ed25519 AAAA… comment"), or null when there is none yet. */
export function hostPublicKey(runDir: string): string | null {
  try {
    return readFileSync(`${sshdFiles(runDir).hostKey}.pub`, "utf8").trim();
  } catch {
    return null;
  }
}

/** Resolves once something on 127.0.0.1:port speaks SSH (its banner), or rejects after `timeoutMs`. */
async function waitForBanner(port: number, timeoutMs: number, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
    if (gone()) throw new Error("sshd exited before it answered");
    const banner = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once("data", (data: Buffer) => done(data.toString("latin1").startsWith("SSH-")));
      socket.once("error", () => done(false));
    });
    if (banner) return;
    if (Date.now() > deadline) throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export interface StartLocalSshdOptions {
  port: number;
  home: string;
  runDir: string;
  /** The sandbox's environment (sandboxEnv): sshd carries its marker, sessions get HOME, PATH and the marker. */
  env: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Starts the sandbox's sshd as a detached process (it outlives Capstan, like JupyterLab, and a stop
 * finds it by the sandbox's marker). Rejects with a message that says what is missing.
 */
export async function startLocalSshd(options: StartLocalSshdOptions): Promise<LocalSshd> {
  const sshd = sshdPath();
  if (!existsSync(sshd)) throw new Error(`there is no sshd at ${sshd}: install openssh-server (Debian: apt-get install openssh-server) for SSH into sandboxes`);
  const files = sshdFiles(options.runDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.hostKey)) {
    await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "capstan-sandbox", "-f", files.hostKey]);
  }
  // As root, sshd insists on its privilege separation folder (Debian's service makes it at boot).
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const user = sshUser();
  writeFileSync(files.session, SESSION_SCRIPT, { mode: 0o700 });
  writeFileSync(files.config, sshdConfig({ port: options.port, user, home: options.home, files, env: options.env }), { mode: 0o600 });
  const log = openSync(files.log, "a", 0o600);
  let exited = false;
  let child: ChildProcess;
  try {
    child = spawn(sshd, ["-D", "-e", "-f", files.config], { cwd: options.home, env: options.env, detached: true, stdio: ["ignore", log, log] });
  } finally {
    closeSync(log);
  }
  const failed = new Promise<Error>((resolve) => child.once("error", resolve));
  child.once("exit", () => (exited = true));
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${sshd}: ${(await failed).message}`);
  try {
    await waitForBanner(options.port, options.timeoutMs ?? 10_000, () => exited);
  } catch (error) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
    let tail = "";
    try {
      tail = readFileSync(files.log, "utf8").trimEnd().split("\n").slice(-5).join("\n");
    } catch {
      // no log
    }
    throw new Error(`${(error as Error).message}${tail ? `; its log ends with:\n${tail}` : ""}`, { cause: error });
  }
  const hostKey = hostPublicKey(options.runDir);
  return { host: "127.0.0.1", port: options.port, user, ...(hostKey ? { hostKey } : {}), pid, pidStart: processStartTime(pid) };
}
