/**
 * What a local replica leaves behind so the next `capstan up` can adopt it: `replica-ID.json`
 * (mode 0600) in the deployment's folder with its pid, address, model, version, archive and start
 * time, written once it is ready and removed when it stops. A record is trusted only when its pid is
 * alive and that process's command line is this replica's `capstan serve` (its config.properties
 * and `--models MODEL=ARCHIVE`); a pid reused by another program is foreign and left alone.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ReplicaRecord {
  id: number;
  pid: number;
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

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The command line of `pid` as `ps` shows it, or undefined when it is gone. */
function commandLine(pid: number): string | undefined {
  try {
    return execFileSync("ps", ["-p", String(pid), "-o", "args="], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs the `capstan serve` of this record in the deployment folder `dir`. */
export function runsRecord(dir: string, record: ReplicaRecord): boolean {
  const args = commandLine(record.pid);
  return args !== undefined && args.includes(" serve ") && args.includes(`--ts-config ${join(dir, "config.properties")}`) && args.includes(`--models ${record.model}=${record.archive}`);
}
