/**
 * Signalling process groups and sets of processes, written once for every part of Capstan that
 * stops what it started: the local executor (an attempt's group, then its leftovers found through
 * its cgroup or its token), the notebook kernels (a kernel's group) and the warm kernel pool.
 *
 * A group is signalled as a whole (`kill(-pgid)`), so its processes get the signal together and a
 * fork racing a SIGKILL cannot escape it. Processes outside any group Capstan knows (setsid
 * children, double-forked daemons) are signalled by listing them again and again until none is
 * left (`signalUntilGone`), since new ones may appear while the others die.
 */

/** Sends `signal` to every process of the group `pgid`; false when the group has no process left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends `signal` to the group led by `pid`, or to `pid` alone when it leads no group (it did not
 * start a session of its own). Only for a pid known to be alive: a dead one may be reused.
 */
export function signalGroupOrProcess(pid: number, signal: NodeJS.Signals): boolean {
  if (signalGroup(pid, signal)) return true;
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export interface SignalUntilGoneOptions {
  /** How many times the list is read and signalled at most (SIGKILL only; other signals are sent once). */
  rounds: number;
  /** The wait between rounds (default 20 ms). */
  intervalMs?: number;
}

/**
 * Signals every process `list` names. SIGKILL is sent again to whatever the list names next, up to
 * `rounds` times, until it names none; any other signal is sent once (the processes may handle it).
 * Resolves whether the list was empty at the end (always true for signals other than SIGKILL).
 */
export async function signalUntilGone(list: () => Promise<number[]> | number[], signal: NodeJS.Signals, options: SignalUntilGoneOptions): Promise<boolean> {
  for (let round = 0; round < options.rounds; round++) {
    const pids = await list();
    if (pids.length === 0) return true;
    for (const pid of pids) {
      if (!Number.isInteger(pid) || pid <= 1) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // gone
      }
    }
    if (signal !== "SIGKILL") return true;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
  return (await list()).length === 0;
}
