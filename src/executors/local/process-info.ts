/**
 * Facts about local processes read from /proc: a process's start time (to tell a reused pid apart)
 * and the search for a process by the attempt token in its environment.
 */
import { readdir, readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";

/** The start time of a process in clock ticks since boot, or null when it does not exist. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may contain spaces and parentheses; the fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(rest[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

/** True while the process with this pid and start time exists and is not a zombie. */
export function isProcessAlive(pid: number, startTime: number | null): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (rest[0] === "Z" || rest[0] === "X") return false;
    return startTime === null || Number(rest[19]) === startTime;
  } catch {
    return false;
  }
}

/** Pids of live processes carrying this attempt token in their environment. */
export async function pidsWithToken(token: string): Promise<number[]> {
  const needle = `CAPSTAN_ATTEMPT_TOKEN=${token}`;
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const found: number[] = [];
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry)) return;
      try {
        const environ = await readFile(`/proc/${entry}/environ`, "latin1");
        if (environ.split("\0").includes(needle)) found.push(Number(entry));
      } catch {
        // gone, or not ours to read
      }
    }),
  );
  return found;
}

/** Finds the process group leader started for an attempt, by the token in its environment. */
export async function findProcessByToken(token: string): Promise<{ pid: number; startTime: number } | null> {
  const found: { pid: number; startTime: number }[] = [];
  for (const pid of await pidsWithToken(token)) {
    const startTime = processStartTime(pid);
    if (startTime !== null && isProcessAlive(pid, startTime)) found.push({ pid, startTime });
  }
  // The wrapper started first; its children inherit the token.
  found.sort((a, b) => a.startTime - b.startTime || a.pid - b.pid);
  return found[0] ?? null;
}
