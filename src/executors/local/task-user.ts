/**
 * The trust boundary between local tasks and the platform. A task must not read the platform's
 * home (the CLI token, secret.key, the database, logs, other runs' folders):
 *
 * - as root, tasks run as an unprivileged user (`local.run_as`, default `nobody`) in a mount
 *   namespace of their own where an empty tmpfs covers the home and only the attempt's folder, the
 *   run's artifacts folder (and the working folder, if it lies in the home) are mounted back;
 * - as any other user, tasks run as that same user in a user + mount namespace with the same view
 *   of the home, nested once more so the task holds no capability over its mounts (it cannot
 *   unmount the tmpfs to uncover the home);
 * - where namespaces are not allowed (or `local.isolation: off`), tasks run as the platform user
 *   and can read its home: one warning at start says so.
 *
 * A task enters the boundary in its own process, just before its command: the launcher
 * (python/capstan_runtime/task_boundary.py) makes the system calls itself from a `TaskBoundaryPlan`,
 * starting nothing more; without the launcher, the plan becomes an argv prefix (unshare, sh, mount,
 * setpriv) inside the executor's shell wrapper. Either way the attempt's pid and status files are
 * written by the platform's user, outside the namespace.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, lchownSync, lstatSync, readdirSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { LaunchError } from "../executor.js";

/**
 * How tasks are kept from the platform's files; `refused`: Capstan runs as root and the boundary
 * could not be set up, so local tasks fail at launch rather than run as root.
 */
export type TaskBoundaryMode = "user" | "namespace" | "none" | "refused";

export interface TaskBoundaryOptions {
  /** The platform's home, hidden from tasks. */
  home: string;
  /** `local.run_as`: a user name or uid:gid; used when the platform runs as root (default nobody). */
  runAs?: string | undefined;
  /** `local.isolation`: auto (default) or off. */
  isolation?: "auto" | "off" | undefined;
  /** Receives the one warning about a missing or ignored boundary. */
  warn?: (message: string) => void;
  /** The platform's user and group (default: this process's; when root gives others, the check runs as them). */
  uid?: number;
  gid?: number;
}

/** The user tasks run as under root. */
export interface TaskUser {
  uid: number;
  gid: number;
  /** The name given (its supplementary groups are set), or null for uid:gid (no supplementary groups). */
  name: string | null;
}

/** Folders of one attempt that a task needs. */
export interface AttemptFolders {
  attemptDir: string;
  artifactsDir: string;
  cwd: string;
}

/**
 * How a task enters the boundary: the same steps whether the launcher makes the system calls
 * (python/capstan_runtime/task_boundary.py) or a shell runs unshare, mount and setpriv
 * (`boundaryPrefix`).
 */
export interface TaskBoundaryPlan {
  mode: "user" | "namespace";
  /** The task's user and group (mode namespace: the platform's own, mapped back in a nested namespace). */
  uid: number;
  gid: number;
  /** The run_as name whose supplementary groups the task gets, or null for none. */
  user: string | null;
  /** The home covered by an empty tmpfs. */
  home: string;
  /** Folders of the home (relative to it) mounted back. */
  binds: string[];
}

/**
 * Runs as root (mode user) or as namespace root (mode namespace) with the arguments
 * `uid gid groups-flag home folder… -- argv…`: covers the home with an empty tmpfs and mounts back
 * the given folders (relative to the home) from a descriptor opened before, re-enters the working
 * folder through the new view, then runs the argv as the task user ($0 names the mode).
 */
const SANDBOX_SCRIPT = [
  "set -e",
  'step=$0; uid=$1; gid=$2; groups=$3; home=$4; shift 4; here=$(pwd -P)',
  'exec 3<"$home"',
  'mount -t tmpfs -o mode=0755,size=1m capstan-home "$home"',
  'while [ "$1" != "--" ]; do mkdir -p "$home/$1"; mount --no-canonicalize --bind "/proc/self/fd/3/$1" "$home/$1"; shift; done',
  "shift",
  "exec 3<&-",
  'cd "$here" 2>/dev/null || { echo "capstan: the working folder $here is not visible to tasks" >&2; exit 126; }',
  'if [ "$step" = user ]; then exec setpriv --reuid="$uid" --regid="$gid" "$groups" --no-new-privs -- "$@"; fi',
  'exec unshare --user --map-user="$uid" --map-group="$gid" -- "$@"',
].join("\n");

export class TaskBoundary {
  private constructor(
    readonly mode: TaskBoundaryMode,
    readonly home: string,
    /** The user tasks run as (mode user), else null (they run as the platform's user). */
    readonly user: TaskUser | null,
    /** One line naming the mode, for the start log and `capstan up`. */
    readonly description: string,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  /** No boundary (tasks run as the platform's user with its rights). */
  static none(home: string, why: string): TaskBoundary {
    return new TaskBoundary("none", resolve(home), null, `tasks run as the platform's user and can read its home (${why})`);
  }

  /**
   * Chooses the mode for this process: as root, the run_as user; otherwise a user namespace where
   * the kernel allows one (tried for real once); else none, with one warning.
   */
  static resolve(options: TaskBoundaryOptions): TaskBoundary {
    const home = resolve(options.home);
    const warn = options.warn ?? (() => undefined);
    const uid = options.uid ?? process.getuid?.() ?? -1;
    const gid = options.gid ?? process.getgid?.() ?? -1;
    if (options.isolation === "off") {
      const boundary = TaskBoundary.none(home, "local.isolation: off");
      warn(`local executor: ${boundary.description}`);
      return boundary;
    }
    if (uid === 0) {
      const user = resolveTaskUser(options.runAs ?? "nobody");
      if (user.uid === 0) throw new Error(`local.run_as: ${JSON.stringify(options.runAs)} is root; tasks must run as an unprivileged user (a user name or uid:gid other than 0)`);
      const boundary = new TaskBoundary("user", home, user, `tasks run as ${user.name ?? `${user.uid}:${user.gid}`} (uid ${user.uid}) in a mount namespace without the platform's home`, warn);
      const failure = boundary.probe();
      if (failure) {
        const refused = new TaskBoundary("refused", home, null, `local tasks cannot run: Capstan runs as root and their mount namespace could not be set up (${failure}); allow it (CAP_SYS_ADMIN, unshare not blocked by seccomp) or set local.isolation: off to run them as root with the platform's rights`, warn);
        warn(`local executor: ${refused.description}`);
        return refused;
      }
      return boundary;
    }
    if (options.runAs !== undefined) warn(`local executor: local.run_as is ignored: it applies only when Capstan runs as root, and this process runs as uid ${uid}`);
    const boundary = new TaskBoundary("namespace", home, { uid, gid, name: null }, `tasks run as this user (uid ${uid}) in a user and mount namespace without the platform's home`, warn);
    const failure = boundary.probe(process.getuid?.() === 0 && uid !== 0 ? ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"] : []);
    if (failure) {
      const none = TaskBoundary.none(home, `user namespaces are not available: ${failure}`);
      warn(`local executor: ${none.description}; see docs/security.md`);
      return none;
    }
    return boundary;
  }

  /** Whether tasks are kept out of the home. */
  get active(): boolean {
    return this.mode !== "none";
  }

  /** Before anything is reserved for an attempt: refuses it when tasks may not run at all. */
  check(): void {
    if (this.mode === "refused") throw new LaunchError(this.description, { retryable: false });
  }

  /**
   * What a task process does to enter the boundary for these folders (the launcher does it itself,
   * with the system calls), or null when there is none.
   */
  plan(folders: AttemptFolders): TaskBoundaryPlan | null {
    if ((this.mode !== "user" && this.mode !== "namespace") || !this.user) return null;
    const binds = new Set<string>();
    for (const dir of [folders.attemptDir, folders.artifactsDir, folders.cwd]) {
      const inside = relative(this.home, resolve(dir));
      if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) continue;
      binds.add(inside);
    }
    return { mode: this.mode, uid: this.user.uid, gid: this.user.gid, user: this.user.name, home: this.home, binds: [...binds] };
  }

  /** The argv placed before a task's command, where a shell enters the boundary (no launcher). */
  prefix(folders: AttemptFolders): string[] {
    const plan = this.plan(folders);
    return plan ? boundaryPrefix(plan) : [];
  }

  /** Before the attempt starts: its folder and the run's artifacts folder become the task user's. */
  prepare(folders: Pick<AttemptFolders, "attemptDir" | "artifactsDir">): void {
    if (this.mode !== "user" || !this.user) return;
    chownTree(folders.attemptDir, this.user.uid, this.user.gid);
    chownSync(folders.artifactsDir, this.user.uid, this.user.gid);
  }

  /** After the attempt ended: its folder is the platform's again (0700), out of later tasks' reach. */
  release(attemptDir: string): void {
    if (this.mode !== "user") return;
    try {
      chownTree(attemptDir, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      chmodSync(attemptDir, 0o700);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.warn(`local executor: could not take back ${attemptDir} from the task user: ${(error as Error).message}`);
    }
  }

  /**
   * Under root: why the task user cannot start `program` (a Python whose files it cannot read, such
   * as one under /root), or undefined when it can.
   */
  checkProgram(program: string, args: readonly string[] = []): string | undefined {
    if (this.mode !== "user" || !this.user) return undefined;
    const user = this.user;
    // Through a shell, as a task starts it: setpriv's own exec can succeed where a child's fails.
    const result = spawnSync("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", "/bin/sh", "-c", 'exec "$0" "$@"', program, ...args], { cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, encoding: "utf8", timeout: 20_000 });
    if (!result.error && result.status === 0) return undefined;
    const why = result.error?.message ?? ((result.stderr || `exit code ${String(result.status)}`).trim().split("\n").pop() ?? "");
    return `${program} cannot be run by ${user.name ?? `${user.uid}:${user.gid}`}, the user tasks run as (${why}); make it and its files readable by that user (a Python under /root needs chmod o+x /root) or set local.run_as`;
  }

  /** Runs `true` through the prefix (after `asUser`); returns why it failed, or undefined. */
  private probe(asUser: string[] = []): string | undefined {
    const [command = "unshare", ...args] = [...asUser, ...this.prefix({ attemptDir: this.home, artifactsDir: this.home, cwd: "/" })];
    const result = spawnSync(command, [...args, "true"], { cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PWD: "/" }, encoding: "utf8", timeout: 10_000 });
    if (result.error) return result.error.message;
    if (result.status !== 0) return (result.stderr || `exit code ${String(result.status)}`).trim().split("\n")[0];
    return undefined;
  }
}

/** The argv prefix that enters the boundary through unshare, a shell, mount and setpriv. */
export function boundaryPrefix(plan: TaskBoundaryPlan): string[] {
  const head = plan.mode === "user" ? ["unshare", "--mount", "--propagation", "private"] : ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"];
  const groups = plan.user ? "--init-groups" : "--clear-groups";
  return [...head, "/bin/sh", "-c", SANDBOX_SCRIPT, plan.mode, String(plan.uid), String(plan.gid), groups, plan.home, ...plan.binds, "--"];
}

/** A user name or uid:gid, checked against this machine's user database. */
export function resolveTaskUser(spec: string): TaskUser {
  const numeric = /^(\d+):(\d+)$/.exec(spec.trim());
  if (numeric) return { uid: Number(numeric[1]), gid: Number(numeric[2]), name: null };
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(spec)) throw new Error(`local.run_as: ${JSON.stringify(spec)} is neither a user name nor uid:gid (e.g. nobody or 65534:65534)`);
  const id = (flag: string) => spawnSync("id", [flag, spec], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0) throw new Error(`local.run_as: there is no user ${JSON.stringify(spec)} on this machine; give an existing user name or uid:gid (e.g. 65534:65534)`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name: spec };
}

/** chown -R without following links. */
function chownTree(path: string, uid: number, gid: number): void {
  const stat = lstatSync(path);
  lchownSync(path, uid, gid);
  if (!stat.isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}
