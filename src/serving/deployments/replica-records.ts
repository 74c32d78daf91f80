/**
 * What a local replica leaves behind so the next `capstan up` can adopt it: `replica-ID.json`
 * (mode 0600) in the deployment's folder with its pid, the process's start time (clock ticks since
 * boot, from /proc) and owner uid, its address, model, version, archive and start time, written once
 * it is ready and removed when it stops. A record is trusted only when its pid is alive with that
 * start time, owned by this user (a process this user may not signal is not ours), and its command
 * line is this replica's `capstan serve` (its config.properties and `--models MODEL=ARCHIVE`); a pid
 * reused by another program, or by another user's look-alike, is foreign and never signalled. A record
 * without start time and owner (written before they were recorded) cannot be trusted and is dropped.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, processStartTime } from "../../executors/local/index.js";

export interface ReplicaRecord {
  id: number;
  pid: number;
  /** The process's start time in clock ticks since boot, which tells a reused pid apart. */
  pidStart: number;
  /** The uid the process ran as. */
  uid: number;
  url: string;
  model: string;
  version: number;
  archive: string;
  startedAt: number;
}

const RECORD_FILE = /^replica-(\d+)\.json$/;

export function recordPath(dir: string, id: number): string {
  return join(dir, `replica-${id}.json`);
}

export function writeRecord(dir: string, record: ReplicaRecord): void {
  writeFileSync(recordPath(dir, record.id), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

export function removeRecord(dir: string, id: number): void {
  rmSync(recordPath(dir, id), { force: true });
}

/** The highest id of a record file in `dir`, well-formed or not (-1 when none), so a new replica never takes an old one's id. */
export function highestRecordId(dir: string): number {
  try {
    return Math.max(-1, ...readdirSync(dir).map((name) => Number(RECORD_FILE.exec(name)?.[1] ?? -1)));
  } catch {
    return -1;
  }
}

/** The well-formed records in `dir` (a malformed one is removed: nothing can be adopted from it). */
export function readRecords(dir: string): ReplicaRecord[] {
  const records: ReplicaRecord[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const name of names) {
    const id = RECORD_FILE.exec(name)?.[1];
    if (id === undefined) continue;
    try {
      const record = JSON.parse(readFileSync(join(dir, name), "utf8")) as Partial<ReplicaRecord>;
      const ok =
        record.id === Number(id) &&
        Number.isInteger(record.pid) &&
        (record.pid ?? 0) > 1 &&
        Number.isInteger(record.pidStart) &&
        Number.isInteger(record.uid) &&
        typeof record.url === "string" &&
        /^http:\/\/127\.0\.0\.1:\d+$/.test(record.url) &&
        typeof record.model === "string" &&
        Number.isInteger(record.version) &&
        typeof record.archive === "string" &&
        typeof record.startedAt === "number";
      if (ok) records.push(record as ReplicaRecord);
      else rmSync(join(dir, name), { force: true });
    } catch {
      rmSync(join(dir, name), { force: true });
    }
  }
  return records.sort((a, b) => a.id - b.id);
}

/** The uid this process runs as (what a replica it started runs as too). */
export function currentUid(): number {
  return process.getuid?.() ?? -1;
}

/** The real uid of `pid` from /proc, or undefined when it is gone. */
function processUid(pid: number): number | undefined {
  try {
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return uid === undefined ? undefined : Number(uid);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is still the process a replica was started as: alive (not a zombie) with the start
 * time `pidStart`, running as this user, and one this user may signal (EPERM: not ours). Checked
 * before every signal, so a pid reused since is never signalled.
 */
export function ownsProcess(pid: number, pidStart: number | null): boolean {
  if (pidStart === null || !isProcessAlive(pid, pidStart) || processUid(pid) !== currentUid()) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return processStartTime(pid) === pidStart;
}

/** The live processes in the process group `pgid` with their start times (a group's members as /proc shows them now). */
export function groupMembers(pgid: number): { pid: number; pidStart: number }[] {
  const members: { pid: number; pidStart: number }[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[2]) === pgid && rest[0] !== "Z") members.push({ pid: Number(entry), pidStart: Number(rest[19]) });
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

/** The command line of `pid` as `ps` shows it, or undefined when it is gone. */
function commandLine(pid: number): string | undefined {
  try {
    return execFileSync("ps", ["-p", String(pid), "-o", "args="], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the record's process is still the one recorded (ownsProcess) and runs the `capstan serve` of this record in the deployment folder `dir`. */
export function runsRecord(dir: string, record: ReplicaRecord): boolean {
  if (record.uid !== currentUid() || !ownsProcess(record.pid, record.pidStart)) return false;
  const args = commandLine(record.pid);
  return (
    args !== undefined &&
    args.includes(" serve ") && args.includes(`--ts-config ${join(dir, "config.properties")}`) && args.includes(`--models ${record.model}=${record.archive}`) &&
    // Checked again: the pid could have been reused while `ps` ran.
    ownsProcess(record.pid, record.pidStart)
  );
}
