/**
 * How the local executor finds every process of an attempt, `setsid` children and double-forked
 * daemons included, to kill them all at the attempt's end.
 *
 * - `cgroup`: each attempt gets a cgroup v2 of its own under the scheduler's cgroup
 *   (`<own cgroup>/capstan/a-TOKEN`), where that folder is writable (root, or a delegated subtree as
 *   systemd gives with `Delegate=yes`). The task joins it before it runs; at the end the whole
 *   cgroup is killed (`cgroup.kill`, or each pid of `cgroup.procs` on kernels before 5.14). Where the
 *   memory controller is enabled for it, `memory.max` is the task's `resources.memory`.
 * - `token`: no writable cgroup v2 (cgroup v1 only, a read-only /sys/fs/cgroup in a container).
 *   Processes are matched to their attempt by `CAPSTAN_ATTEMPT_TOKEN` in /proc/PID/environ; the
 *   launcher is a child subreaper, so orphans are re-parented to it and reaped. A process that
 *   clears its environment escapes this search.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { readFile, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { signalUntilGone } from "../../process-groups/index.js";
import { pidsWithToken } from "./process-info.js";

export type Containment =
  | {
      kind: "cgroup";
      /** The folder holding the attempts' cgroups. */
      parent: string;
      /** Whether the attempts' cgroups can be given a memory limit. */
      memory: boolean;
      /** Whether the kernel has `cgroup.kill`. */
      killFile: boolean;
    }
  | { kind: "token"; why: string };

/** Finds the cgroup v2 mount point in /proc/self/mountinfo. */
function cgroup2Mount(mountinfo: string): string | undefined {
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.split(" ")[0] !== "cgroup2") continue;
    const mountPoint = left?.split(" ")[4];
    if (mountPoint) return mountPoint.replace(/\\040/g, " ");
  }
  return undefined;
}

/**
 * Decides the containment for this scheduler process. `cgroupRoot` overrides the folder under which
 * attempts' cgroups are made (it must be a writable cgroup v2 folder).
 */
export function detectContainment(cgroupRoot?: string): Containment {
  let base = cgroupRoot;
  if (base === undefined) {
    let mountinfo: string;
    let own: string;
    try {
      mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
      own = readFileSync("/proc/self/cgroup", "utf8");
    } catch {
      return { kind: "token", why: "/proc is not readable" };
    }
    const mount = cgroup2Mount(mountinfo);
    if (mount === undefined) return { kind: "token", why: "no cgroup v2 is mounted" };
    const path = own.split("\n").find((line) => line.startsWith("0::"))?.slice(3);
    if (path === undefined) return { kind: "token", why: "this process is in no cgroup v2" };
    base = join(mount, path);
  }
  const parent = join(base, "capstan");
  try {
    accessSync(base, constants.W_OK);
    mkdirSync(parent, { recursive: true });
  } catch (error) {
    return { kind: "token", why: `cgroup folder ${base} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  // Give the attempts the memory controller where it is available; neither write may be allowed.
  for (const dir of [base, parent]) {
    try {
      writeFileSync(join(dir, "cgroup.subtree_control"), "+memory");
    } catch {
      // not available here, or the folder holds processes
    }
  }
  let memory = false;
  try {
    memory = readFileSync(join(parent, "cgroup.subtree_control"), "utf8").split(/\s+/).includes("memory");
  } catch {
    memory = false;
  }
  removeStaleCgroups(parent);
  return { kind: "cgroup", parent, memory, killFile: existsSync(join(parent, "cgroup.kill")) };
}

/**
 * Removes attempts' cgroups left empty by a scheduler that stopped before removing them. Only those
 * older than a minute: a younger one may belong to a launch of another scheduler on this machine
 * whose task has not joined it yet.
 */
function removeStaleCgroups(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent).filter((name) => name.startsWith("a-"));
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of entries) {
    const dir = join(parent, name);
    try {
      if (now - statSync(dir).mtimeMs < 60_000) continue;
      if (!/^populated 0$/m.test(readFileSync(join(dir, "cgroup.events"), "utf8"))) continue;
      rmdirSync(dir);
    } catch {
      // in use, or removed by someone else
    }
  }
}

/** One line saying which mechanism runs, for the log at start. */
export function describeContainment(containment: Containment, subreaper: boolean): string {
  if (containment.kind === "cgroup") {
    return `local attempts run in cgroups under ${containment.parent}; every process of an attempt is killed at its end; memory limits ${containment.memory ? "are enforced (memory.max)" : "are not enforced (the memory controller is not enabled there)"}`;
  }
  return `local attempts run without cgroups (${containment.why}): leftover processes are found by their attempt token${subreaper ? ", and the launcher re-parents orphans (child subreaper)" : ""}; memory limits are not enforced`;
}

/** Creates an attempt's cgroup; returns its folder. */
export function createAttemptCgroup(containment: Containment & { kind: "cgroup" }, token: string, memoryBytes: number): string {
  const dir = join(containment.parent, `a-${token}`);
  mkdirSync(dir, { recursive: true });
  if (containment.memory && memoryBytes > 0) {
    writeFileSync(join(dir, "memory.max"), String(Math.ceil(memoryBytes)));
    // Without swap the limit means what it says.
    try {
      writeFileSync(join(dir, "memory.swap.max"), "0");
    } catch {
      // no swap accounting
    }
  }
  return dir;
}

async function cgroupPids(dir: string): Promise<number[]> {
  try {
    return (await readFile(join(dir, "cgroup.procs"), "utf8")).split("\n").filter((line) => /^\d+$/.test(line)).map(Number);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a signal to every process of an attempt's cgroup; SIGKILL also removes the cgroup once empty. */
export async function signalCgroup(dir: string, signal: NodeJS.Signals): Promise<void> {
  if (signal === "SIGKILL" && existsSync(join(dir, "cgroup.kill"))) {
    try {
      writeFileSync(join(dir, "cgroup.kill"), "1");
    } catch {
      // gone already
    }
  }
  await signalUntilGone(() => cgroupPids(dir), signal, { rounds: 50 });
  if (signal !== "SIGKILL") return;
  for (let round = 0; round < 50; round++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      await sleep(20);
    }
  }
}

/** Sends a signal to every process carrying the attempt token but those in `spare`; repeats SIGKILL until none is left. */
export async function signalByToken(token: string, signal: NodeJS.Signals, spare: ReadonlySet<number>): Promise<void> {
  await signalUntilGone(async () => (await pidsWithToken(token)).filter((pid) => !spare.has(pid) && pid !== process.pid), signal, { rounds: 10 });
}
