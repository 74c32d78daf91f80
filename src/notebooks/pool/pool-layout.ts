/**
 * The warm pool's directory: `ready/<kernelspec>/<id>.json` tickets of idle kernels, moved by
 * rename to `claimed/` by the one process that takes a kernel, `owner.json` naming the pool's
 * process, and `logs/<id>.log` with each kernel's own output. Tickets are owner-only files.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConnectionInfo } from "../kernel/connection-file.js";

/** What a pool writes about one of its kernels. */
export interface PoolTicket {
  id: string;
  kernelspec: string;
  pid: number;
  /** /proc start time of the kernel, to tell a reused pid apart */
  startTime: string | undefined;
  connection: ConnectionInfo;
  /** the kernel's private directory (connection file, ipc sockets) */
  socketDir: string;
  /** the environment the kernel started with */
  launchEnv: Record<string, string>;
  /** when set: the process that claimed the kernel */
  claimedBy?: { pid: number; startTime: string | undefined };
}

/** The paths of a pool directory. */
export class PoolLayout {
  constructor(readonly dir: string) {}

  get owner(): string {
    return join(this.dir, "owner.json");
  }

  readyDir(kernelspec: string): string {
    return join(this.dir, "ready", kernelspec);
  }

  get readyRoot(): string {
    return join(this.dir, "ready");
  }

  readyTicket(kernelspec: string, id: string): string {
    return join(this.readyDir(kernelspec), `${id}.json`);
  }

  get claimedDir(): string {
    return join(this.dir, "claimed");
  }

  claimedTicket(id: string): string {
    return join(this.claimedDir, `${id}.json`);
  }

  get logsDir(): string {
    return join(this.dir, "logs");
  }

  log(id: string): string {
    return join(this.logsDir, `${id}.log`);
  }

  /** Creates the directories (owner-only). */
  async create(kernelspecs: readonly string[]): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await mkdir(this.claimedDir, { recursive: true, mode: 0o700 });
    await mkdir(this.logsDir, { recursive: true, mode: 0o700 });
    for (const kernelspec of kernelspecs) {
      await mkdir(this.readyDir(kernelspec), { recursive: true, mode: 0o700 });
    }
  }
}

/** Writes a ticket through a temporary file and a rename, so no reader sees half of it. */
export async function writeTicket(path: string, ticket: PoolTicket): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(ticket), { mode: 0o600 });
  await rename(temporary, path);
}

/** Reads a ticket, or undefined when it is gone or unreadable. */
export async function readTicket(path: string): Promise<PoolTicket | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as PoolTicket;
  } catch {
    return undefined;
  }
}

const START_SENSITIVE_PREFIXES = ["PYTHON", "LC_", "JUPYTER", "IPYTHON", "LD_", "XDG_", "PYDEVD"];
const START_SENSITIVE_KEYS = new Set(["HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "MPLBACKEND", "MPLCONFIGDIR"]);

/** True for variables an interpreter reads when it starts (so a warm kernel cannot adopt a change). */
export function isStartSensitive(key: string): boolean {
  return START_SENSITIVE_KEYS.has(key) || START_SENSITIVE_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** The start-sensitive variables that differ between two environments. */
export function startSensitiveDifferences(a: NodeJS.ProcessEnv, b: NodeJS.ProcessEnv): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter(isStartSensitive));
  return [...keys].filter((key) => a[key] !== b[key]).sort();
}
