/**
 * What a process starter is asked to start for one attempt: the task's command and everything the
 * attempt's own process does around it (its folder, working folder, cgroup, log cap and task
 * boundary), and the check that no value holds a NUL byte, which no process can be given.
 */
import type { TaskBoundaryPlan } from "./task-user.js";

export interface StartRequest {
  /** The task's command. */
  argv: string[];
  env: Record<string, string>;
  /** File that receives stdout and stderr (appended, created 0600). */
  log: string;
  /** The attempt's folder: its `pid` and `status` files are written there. */
  attemptDir: string;
  /** The working folder of the command. */
  cwd: string;
  /** The attempt's cgroup folder, which the command joins, or null. */
  cgroup: string | null;
  /** Largest log in bytes (the rest is read and dropped); 0 for no cap. */
  maxLogBytes: number;
  /** The task boundary the command enters, or null for none. */
  boundary: TaskBoundaryPlan | null;
}

/** Where a start request holds a NUL byte (which no argv or environment can hold), or undefined. */
export function nulByteIn(request: Pick<StartRequest, "argv" | "env">): string | undefined {
  const index = request.argv.findIndex((arg) => arg.includes("\0"));
  if (index >= 0) return `argument ${index} of the command`;
  for (const [name, value] of Object.entries(request.env)) {
    if (name.includes("\0")) return `the name of environment variable ${JSON.stringify(name.replaceAll("\0", "\\0"))}`;
    if (value.includes("\0")) return `environment variable ${name}`;
  }
  return undefined;
}

/** Throws when a request holds a NUL byte anywhere. */
export function refuseNul(request: StartRequest): void {
  const where = nulByteIn(request);
  if (where !== undefined) throw new Error(`${where} contains a NUL byte, which a process cannot be given`);
  for (const [name, path] of [["log path", request.log], ["attempt folder", request.attemptDir], ["working folder", request.cwd], ["cgroup folder", request.cgroup ?? ""]] as const) {
    if (path.includes("\0")) throw new Error(`the ${name} contains a NUL byte`);
  }
}
