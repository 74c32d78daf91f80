/**
 * One scheduler per embedded (SQLite) home: a lock file with the owner's pid, process start time and
 * server address. A stale file (its process gone) is taken over. Commands read it to find a running
 * `capstan up` and talk to it instead of scheduling themselves.
 */
import { CapstanError } from "../errors/index.js";
import { readFileSync, rmSync, writeFileSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, processStartTime } from "../executors/local/process-info.js";

export interface SchedulerLockInfo {
  pid: number;
  pidStart: number | null;
  /** Base URL of the HTTP server, when the owner serves one. */
  url: string | null;
  startedAt: number;
  mode: "up" | "run";
}

/** Another live scheduler owns the home. */
export class SchedulerRunningError extends CapstanError {
  override readonly name = "SchedulerRunningError";
  constructor(readonly info: SchedulerLockInfo, home: string) {
    super("in_use", "scheduler_running", `a scheduler (pid ${info.pid}${info.url ? `, ${info.url}` : ""}) already runs against ${home}; stop it first or use another --home`);
  }
}

function lockPath(home: string): string {
  return join(home, "scheduler.lock.json");
}

/** The live owner of the home's lock, or null. */
export function readSchedulerLock(home: string): SchedulerLockInfo | null {
  try {
    const info = JSON.parse(readFileSync(lockPath(home), "utf8")) as SchedulerLockInfo;
    return isProcessAlive(info.pid, info.pidStart) ? info : null;
  } catch {
    return null;
  }
}

/** Takes the lock for this process; throws SchedulerRunningError when another process holds it. */
export function acquireSchedulerLock(home: string, mode: SchedulerLockInfo["mode"]): { update(url: string | null): void; release(): void } {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const existing = readSchedulerLock(home);
  if (existing && existing.pid !== process.pid) throw new SchedulerRunningError(existing, home);
  const info: SchedulerLockInfo = { pid: process.pid, pidStart: processStartTime(process.pid), url: null, startedAt: Date.now(), mode };
  const write = () => {
    const tmp = `${lockPath(home)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
    renameSync(tmp, lockPath(home));
  };
  write();
  return {
    update(url) {
      info.url = url;
      write();
    },
    release() {
      const current = readSchedulerLock(home);
      if (!current || current.pid === process.pid) rmSync(lockPath(home), { force: true });
    },
  };
}
