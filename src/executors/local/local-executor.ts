/**
 * The local executor: each attempt is a detached process group on this machine. The attempt's
 * own process (a fork of the launcher, or a shell wrapper) leads the group and records its pid and
 * the command's exit status in the attempt's folder, so attempts
 * outlive a scheduler crash: a restarted scheduler adopts the ones still running (pid + start time
 * + token) and collects the ones that finished meanwhile.
 */
import { accessSync, closeSync, constants, existsSync, fstatSync, openSync, readFileSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { LauncherExitedError, nulByteIn, type ProcessStarter } from "./process-starter.js";
import { readFile } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import {
  attemptKey,
  LaunchError,
  type AdoptResult,
  type AttemptEnd,
  type AttemptEndListener,
  type AttemptLaunch,
  type AttemptRef,
  type Executor,
  type LaunchInfo,
  type StoredAttempt,
} from "../executor.js";
import { exitCodeReason, exitedFailing, exitedZero, lostEnd as lost, withKillReason } from "../attempt-end.js";
import { localProcessEnv } from "../attempt-env.js";
import { taskCommand } from "../task-command.js";
import { signalGroup } from "../../process-groups/index.js";
import { createAttemptCgroup, signalByToken, signalCgroup, type Containment } from "./containment.js";
import { findProcessByToken, isProcessAlive, processStartTime } from "./process-info.js";
import { ResourceSlots, type Capacity, type Reservation } from "./resource-slots.js";
import type { TaskBoundary } from "./task-user.js";
import { pathScheme } from "../../notebooks/locations/index.js";
import { writeYarnTarget } from "../../spark/index.js";
import { killSparkYarnApplication, sparkAttemptEnd, sparkAttemptIn, type SparkAttempt } from "./spark-attempt.js";

/** Largest outputs object accepted from a local task. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

export interface LocalExecutorOptions {
  capacity: Capacity;
  /** Starts task processes (the Python launcher, or Node's spawn). */
  starter: ProcessStarter;
  /** Interpreter for `python` tasks. */
  python: string;
  /** argv prefix running the capstan CLI, for notebook tasks. */
  capstan: readonly string[];
  /** Time between SIGTERM and SIGKILL when an attempt is killed. */
  killGraceMs?: number;
  /** Environment every task starts from (platform secrets removed by the caller). */
  baseEnv: Record<string, string>;
  /** Extra environment for notebook tasks (kernel pool folder, interpreter). */
  notebookEnv?: Record<string, string>;
  /** How often adopted processes (not children of this one) are checked for life. */
  adoptedCheckMs?: number;
  /** Keeps tasks out of the platform's home (task-user.ts); none: tasks run as this process's user. */
  boundary?: TaskBoundary;
  /** Largest log of one attempt in bytes; 0 for no cap (default 1 GiB). */
  maxLogBytes?: number;
  /** How every process of an attempt is found at its end (default: by its token). */
  containment?: Containment;
}

/** Default cap of one attempt's log. */
export const DEFAULT_MAX_LOG_BYTES = 1024 * 1024 * 1024;

interface Tracked {
  ref: AttemptRef;
  pid: number;
  pidStart: number | null;
  attemptDir: string;
  outputPath: string;
  reservation: Reservation;
  watcher?: FSWatcher;
  poll?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  killedFor?: string;
  /** Outputs known at launch (the output notebook). */
  presetOutputs: Record<string, string>;
  ended: boolean;
  /** The attempt's cgroup folder, when it has one. */
  cgroup: string | null;
  /** Whether the log goes through the capped writer (which is in the leader's group). */
  capped: boolean;
  /** Whether the starter will report the leader's exit (false once adopted or orphaned). */
  reported: boolean;
  /** A spark-submit attempt: a failure's reason gets the driver's exception line, and a YARN application is killed. */
  spark: SparkAttempt | null;
}

export class LocalExecutor implements Executor {
  readonly name = "local";
  readonly #slots: ResourceSlots;
  readonly #options: LocalExecutorOptions;
  readonly #tracked = new Map<string, Tracked>();
  readonly #byPid = new Map<number, Tracked>();
  readonly #unclaimedExits = new Map<number, { code: number | null; signal: NodeJS.Signals | null }>();
  #listener: AttemptEndListener = () => undefined;

  constructor(options: LocalExecutorOptions) {
    this.#options = options;
    this.#slots = new ResourceSlots(options.capacity);
    options.starter.onExit((pid, code, signal) => {
      const tracked = this.#byPid.get(pid);
      if (tracked?.ended) this.#byPid.delete(pid);
      else if (tracked) void this.#finish(tracked, code, signal);
      else this.#unclaimedExits.set(pid, { code, signal });
    });
    options.starter.onOrphaned((pids) => {
      for (const pid of pids) {
        const tracked = this.#byPid.get(pid);
        if (!tracked) continue;
        tracked.reported = false;
        if (tracked.ended) this.#byPid.delete(pid);
        else if (!tracked.poll) this.#watchAdopted(tracked);
      }
    });
  }

  /** How every process of an attempt is found at its end. */
  get containment(): Containment {
    return this.#options.containment ?? { kind: "token", why: "no cgroup was set up" };
  }

  /** The starter in use: `python-launcher` or `node-spawn`. */
  get starter(): ProcessStarter {
    return this.#options.starter;
  }

  get capacity(): Capacity {
    return this.#slots.capacity;
  }

  get running(): number {
    return this.#slots.running;
  }

  onAttemptEnd(listener: AttemptEndListener): void {
    this.#listener = listener;
  }

  canLaunch(launch: Pick<AttemptLaunch, "resources">): boolean {
    this.#slots.check(launch.resources);
    return this.#slots.fits(launch.resources);
  }

  async launch(launch: AttemptLaunch): Promise<LaunchInfo> {
    const key = attemptKey(launch);
    if (this.#tracked.has(key)) throw new LaunchError(`attempt ${launch.tryNumber} of ${launch.taskId} is already running`, { retryable: false });
    const command = taskCommand(launch.task, {
      python: this.#options.python,
      capstan: this.#options.capstan,
      baseDir: launch.baseDir,
      attemptDir: launch.attemptDir,
      env: launch.env,
      token: launch.token,
      ...(launch.yarn !== undefined ? { yarn: launch.yarn } : {}),
    });
    const cwd = launch.task.cwd && launch.task.kind !== "notebook" ? resolve(launch.baseDir, launch.task.cwd) : launch.baseDir;
    const env = { ...localProcessEnv(launch, this.#options), ...command.env };
    const nul = nulByteIn({ argv: command.argv, env });
    if (nul !== undefined) {
      throw new LaunchError(`${nul} contains a NUL byte (\\0), which a process's arguments and environment cannot hold; remove it from the value that sets it (a param, env or secret)`, { retryable: false });
    }
    // Launching is on the scheduler's hot path: these are small, fast syscalls, done synchronously
    // rather than as thread-pool round trips.
    this.#options.boundary?.check();
    checkRunnable(command.argv, launch, cwd, env.PATH ?? "");
    for (const [name, content] of Object.entries(command.files)) writeFileSync(join(launch.attemptDir, name), content);
    if (command.yarn !== undefined) writeYarnTarget(launch.attemptDir, command.yarn);

    if (!this.#slots.fits(launch.resources)) throw new LaunchError("no free capacity (the scheduler launched beyond canLaunch)", { retryable: true });
    const reservation = this.#slots.reserve(launch.resources);
    env.CUDA_VISIBLE_DEVICES = reservation.gpus.join(",");
    writeFileSync(reservationPath(launch.attemptDir), JSON.stringify(reservation));
    const boundary = this.#options.boundary?.plan({ attemptDir: launch.attemptDir, artifactsDir: launch.artifactsDir, cwd }) ?? null;

    const containment = this.containment;
    let cgroup: string | null = null;
    if (containment.kind === "cgroup") {
      try {
        cgroup = createAttemptCgroup(containment, launch.token, launch.resources.memory);
      } catch (error) {
        this.#slots.release(reservation);
        throw new LaunchError(`could not make the attempt's cgroup under ${containment.parent}: ${(error as Error).message}`, { retryable: true, cause: error });
      }
      // For people looking at the attempt; never read back (the task may rewrite it): see attemptCgroup.
      writeFileSync(join(launch.attemptDir, "cgroup"), cgroup);
    }
    const maxLog = this.#options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
    const capped = maxLog > 0;

    let pid: number;
    let reported = true;
    try {
      this.#options.boundary?.prepare(launch);
      pid = await this.#options.starter.start({ argv: command.argv, env, log: launch.logPath, attemptDir: launch.attemptDir, cwd, cgroup, maxLogBytes: maxLog, boundary });
    } catch (error) {
      // A launcher that died may have started the attempt before it could answer: then its pid is
      // on record (the launcher writes the pid file before the attempt may run), or it runs and is
      // found by its token.
      const fromFile = error instanceof LauncherExitedError ? await readPidFile(launch.attemptDir) : null;
      let found = fromFile !== null ? { pid: fromFile, startTime: 0 } : null;
      if (error instanceof LauncherExitedError && !found) found = await findProcessByToken(launch.token);
      if (!found) {
        this.#slots.release(reservation);
        if (cgroup) void signalCgroup(cgroup, "SIGKILL");
        throw new LaunchError(`could not start the process: ${(error as Error).message}`, { retryable: true, cause: error });
      }
      pid = found.pid;
      reported = false;
    }
    const pidStart = processStartTime(pid);
    const tracked: Tracked = { ref: launch, pid, pidStart, attemptDir: launch.attemptDir, outputPath: launch.outputPath, reservation, presetOutputs: command.outputs, ended: false, cgroup, capped, reported, spark: launch.task.kind === "spark" ? { log: launch.logPath, yarn: command.yarn ?? null } : null };
    this.#tracked.set(key, tracked);
    this.#byPid.set(pid, tracked);
    // Without cgroup.kill the command's leftovers may hold the log pipe open and keep the wrapper
    // alive: its status file is the end then.
    if (!reported || (capped && !(containment.kind === "cgroup" && containment.killFile))) this.#watchAdopted(tracked);
    // A very short task can be reported ended before the pid reached this point.
    const early = this.#unclaimedExits.get(pid);
    if (early) {
      this.#unclaimedExits.delete(pid);
      void this.#finish(tracked, early.code, early.signal);
    }
    return { externalId: `local:${launch.token}`, pid, ...(pidStart !== null ? { pidStart } : {}) };
  }

  async kill(ref: AttemptRef, reason: string): Promise<void> {
    const tracked = this.#tracked.get(attemptKey(ref));
    if (!tracked || tracked.ended) return;
    tracked.killedFor = reason;
    this.#signal(tracked, "SIGTERM");
    tracked.killTimer = setTimeout(() => this.#signal(tracked, "SIGKILL"), this.#options.killGraceMs ?? 10_000);
    tracked.killTimer.unref();
    // spark-submit going down does not end a YARN application (cluster mode) or its place in the queue.
    if (tracked.spark !== null) void killSparkYarnApplication(tracked.spark);
    return Promise.resolve();
  }

  async adopt(attempts: readonly StoredAttempt[]): Promise<Map<string, AdoptResult>> {
    const results = new Map<string, AdoptResult>();
    // Ends that wait on another system (a YARN application's kill) are awaited together, not one by one.
    const ending: Promise<void>[] = [];
    const ended = (key: string, end: AttemptEnd | Promise<AttemptEnd>): void => {
      ending.push(Promise.resolve(end).then((value) => void results.set(key, { status: "ended", end: value })));
    };
    for (const attempt of attempts) {
      const key = attemptKey(attempt);
      const dir = attempt.attemptDir;
      if (!dir) {
        results.set(key, { status: "ended", end: lost("the attempt has no folder") });
        continue;
      }
      const status = await readStatus(dir);
      const reservation = await readReservation(dir);
      const outputPath = join(dir, "output.json");
      const presetOutputs: Record<string, string> = existsSync(join(dir, "parameters.json")) ? { notebook: join(dir, "output.ipynb") } : {};
      const spark = sparkAttemptIn(dir, attempt.logPath);
      const driverFailure = async (end: AttemptEnd): Promise<AttemptEnd> => (spark !== null ? sparkAttemptEnd(spark, end, attempt.killReason || undefined) : end);
      if (status !== null) {
        await killEndedLeftovers(this.containment, attempt.token);
        this.#options.boundary?.release(dir);
        ended(key, driverFailure(collectEnd(status, null, outputPath, presetOutputs, attempt.killReason ?? undefined)));
        continue;
      }
      let pid = attempt.pid;
      let pidStart = attempt.pidStart;
      if (pid === null) {
        const fromFile = await readPidFile(dir);
        if (fromFile !== null && isProcessAlive(fromFile, null)) {
          pid = fromFile;
          pidStart = processStartTime(fromFile);
        } else {
          const found = await findProcessByToken(attempt.token);
          if (found) ({ pid, startTime: pidStart } = { pid: found.pid, startTime: found.startTime });
        }
      }
      if (pid !== null && isProcessAlive(pid, pidStart)) {
        const cgroup = attemptCgroup(this.containment, attempt.token);
        const tracked: Tracked = { ref: attempt, pid, pidStart, attemptDir: dir, outputPath, reservation: this.#slots.readopt(reservation), presetOutputs, ended: false, cgroup, capped: true, reported: false, spark };
        this.#tracked.set(key, tracked);
        this.#byPid.set(pid, tracked);
        this.#watchAdopted(tracked);
        results.set(key, { status: "running" });
        continue;
      }
      // Gone without a status: check once more in case it finished between the two reads.
      const late = await readStatus(dir);
      await killEndedLeftovers(this.containment, attempt.token);
      this.#options.boundary?.release(dir);
      const lateEnd = late !== null ? collectEnd(late, null, outputPath, presetOutputs, attempt.killReason ?? undefined) : lost(attempt.killReason ? `killed (${attempt.killReason})` : "the process vanished while the scheduler was down");
      ended(key, late !== null || spark?.yarn ? driverFailure(lateEnd) : lateEnd);
    }
    await Promise.all(ending);
    return results;
  }

  close(): Promise<void> {
    for (const tracked of this.#tracked.values()) {
      tracked.watcher?.close();
      if (tracked.poll) clearInterval(tracked.poll);
      if (tracked.killTimer) clearTimeout(tracked.killTimer);
    }
    this.#tracked.clear();
    this.#byPid.clear();
    this.#options.starter.close();
    return Promise.resolve();
  }

  #signal(tracked: Tracked, signal: NodeJS.Signals): void {
    if (tracked.ended) return;
    if (isProcessAlive(tracked.pid, tracked.pidStart)) signalGroup(tracked.pid, signal);
    // Processes that left the group (setsid, double fork) get the signal too.
    void this.#signalLeftovers(tracked, signal);
  }

  /**
   * Signals every process of the attempt outside its leader's group as well as in it, but neither
   * the leader nor the log writer: the attempt's cgroup, or else the processes carrying its token.
   */
  async #signalLeftovers(tracked: Tracked, signal: NodeJS.Signals): Promise<void> {
    if (tracked.cgroup) {
      const done = signalCgroup(tracked.cgroup, signal);
      // SIGKILL is sent at once; removing the emptied cgroup need not hold anything up.
      if (signal !== "SIGKILL") await done;
      return;
    }
    await signalByToken(tracked.ref.token, signal, new Set([tracked.pid]));
  }

  /**
   * Adopted processes are not our children: their end shows as the status file, or as the pid
   * vanishing. Also used for attempts whose leader may outlive the command (a capped log: see attempt_supervisor.py).
   */
  #watchAdopted(tracked: Tracked): void {
    const check = async (): Promise<void> => {
      if (tracked.ended) return;
      const status = await readStatus(tracked.attemptDir);
      if (status !== null) {
        await this.#finish(tracked, status, null);
      } else if (!tracked.reported && !isProcessAlive(tracked.pid, tracked.pidStart)) {
        // (A leader whose exit the starter reports ends through that report, with its signal.)
        const late = await readStatus(tracked.attemptDir);
        await this.#finish(tracked, late, late === null ? "SIGKILL" : null, late === null);
      }
    };
    try {
      tracked.watcher = watch(tracked.attemptDir, (_event, name) => {
        if (name === "status") void check();
      });
      tracked.watcher.on("error", () => undefined);
    } catch {
      // watching is a speed-up; the liveness check below is enough
    }
    tracked.poll = setInterval(() => void check(), this.#options.adoptedCheckMs ?? 1000);
    tracked.poll.unref();
  }

  async #finish(tracked: Tracked, code: number | null, signal: NodeJS.Signals | null, vanished = false): Promise<void> {
    if (tracked.ended) return;
    tracked.ended = true;
    tracked.watcher?.close();
    if (tracked.poll) clearInterval(tracked.poll);
    if (tracked.killTimer) clearTimeout(tracked.killTimer);
    // Whatever the group leader did, leave no stray process of the attempt behind: its group (unless
    // the leader still runs: it waits for the log writer, which is in its group), its cgroup or the
    // processes carrying its token, setsid children and daemons included.
    if (!tracked.capped || !isProcessAlive(tracked.pid, tracked.pidStart)) signalGroup(tracked.pid, "SIGKILL");
    await this.#signalLeftovers(tracked, "SIGKILL");
    this.#tracked.delete(attemptKey(tracked.ref));
    // Keep the leader's pid while its exit is still to be reported, so that report is not taken for another's.
    if (!tracked.reported) this.#byPid.delete(tracked.pid);
    this.#slots.release(tracked.reservation);
    this.#options.boundary?.release(tracked.attemptDir);
    const status = code ?? (await readStatus(tracked.attemptDir));
    const end = vanished && status === null
      ? lost(tracked.killedFor ? `killed (${tracked.killedFor})` : "the process vanished")
      : collectEnd(status, signal, tracked.outputPath, tracked.presetOutputs, tracked.killedFor);
    this.#listener(tracked.ref, tracked.spark !== null ? await sparkAttemptEnd(tracked.spark, end, tracked.killedFor || undefined) : end);
  }
}

async function readStatus(dir: string): Promise<number | null> {
  try {
    const text = (await readFile(join(dir, "status"), "utf8")).trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** An attempt that ended while no scheduler watched it may have left processes (and its cgroup) behind. */
async function killEndedLeftovers(containment: Containment, token: string): Promise<void> {
  const cgroup = attemptCgroup(containment, token);
  if (cgroup) void signalCgroup(cgroup, "SIGKILL");
  else await signalByToken(token, "SIGKILL", new Set());
}

/**
 * The cgroup createAttemptCgroup made for the attempt's token, when it is there. Worked out, never
 * read from the attempt's folder: the task may write that folder, and a cgroup named there (or a
 * folder of its own dressed as one) would have the platform signal what runs in it, and write
 * through its links.
 */
export function attemptCgroup(containment: Containment, token: string): string | null {
  if (containment.kind !== "cgroup") return null;
  const dir = join(containment.parent, `a-${token}`);
  return existsSync(dir) ? dir : null;
}

/**
 * Where the attempt's reserved capacity is kept for a restart: beside its folder, which the task
 * may write (a reservation it wrote would let it claim every GPU after a restart).
 */
function reservationPath(attemptDir: string): string {
  return `${attemptDir.replace(/\/+$/, "")}.resources.json`;
}

/**
 * The attempt leader's pid as its folder names it. Read only when the launcher died before it
 * reported the pid. It is not checked against the attempt's token: the launcher's fork writes it
 * before it execs with the attempt's environment, and a restart in between would take the running
 * attempt for gone and run it twice. The task may write this file (docs/security.md).
 */
async function readPidFile(dir: string): Promise<number | null> {
  try {
    const text = (await readFile(join(dir, "pid"), "utf8")).trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

async function readReservation(dir: string): Promise<Reservation> {
  try {
    const parsed = JSON.parse(await readFile(reservationPath(dir), "utf8")) as Partial<Reservation>;
    return { cpu: parsed.cpu ?? 0, memory: parsed.memory ?? 0, gpus: parsed.gpus ?? [] };
  } catch {
    return { cpu: 0, memory: 0, gpus: [] };
  }
}

/** Turns an exit status (or signal) and the outputs file into the attempt's end (the rule is attempt-end.ts's). */
function collectEnd(code: number | null, signal: NodeJS.Signals | null, outputPath: string, preset: Record<string, string>, killedFor: string | undefined): AttemptEnd {
  if (code === 0) return exitedZero(readOutputs(outputPath), preset);
  const reason = code === null ? `killed by ${signal ?? "a signal"}` : exitCodeReason(code, { sigkillMayBeMemory: true });
  return withKillReason(exitedFailing(code, reason, readOutputs(outputPath, true), preset), killedFor || undefined);
}

/**
 * The attempt's outputs file: a JSON object, or an error saying what is wrong with it. With
 * `failed`, text that is not JSON is why the task failed (as in a pod's termination message).
 */
function readOutputs(path: string): { value: Record<string, unknown> } | { error: string };
function readOutputs(path: string, failed: true): { value: Record<string, unknown> } | { error: string } | { text: string };
function readOutputs(path: string, failed = false): { value: Record<string, unknown> } | { error: string } | { text: string } {
  let text: string;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return { value: {} };
  }
  try {
    const { size } = fstatSync(fd);
    if (size > MAX_OUTPUT_BYTES) return { error: `outputs: $CAPSTAN_OUTPUT holds ${size} bytes; at most ${MAX_OUTPUT_BYTES} are accepted (write large results to $CAPSTAN_ARTIFACTS_DIR and output their path)` };
    text = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  if (text.trim() === "") return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { error: "outputs: $CAPSTAN_OUTPUT must hold one JSON object such as {\"rows\": 10}" };
    }
    return { value: value as Record<string, unknown> };
  } catch (error) {
    if (failed && !text.trimStart().startsWith("{")) return { text: text.trim() };
    return { error: `outputs: $CAPSTAN_OUTPUT is not valid JSON (${(error as Error).message}); it must hold one JSON object such as {"rows": 10}` };
  }
}

/** Fails early, with a clear reason, when the program or script does not exist. */
function checkRunnable(argv: readonly string[], launch: AttemptLaunch, cwd: string, path: string): void {
  const program = argv[0];
  if (program === undefined || program === "") throw new LaunchError("the task has an empty command", { retryable: false });
  if (!existsSync(cwd)) throw new LaunchError(`the working folder ${cwd} does not exist`, { retryable: false });
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (program.includes("/")) {
    const file = isAbsolute(program) ? program : resolve(cwd, program);
    if (!executable(file)) throw new LaunchError(`command not found: ${program} (no executable file at ${file})`, { retryable: false });
  } else {
    let found = false;
    for (const dir of path.split(delimiter)) {
      if (dir && executable(join(dir, program))) {
        found = true;
        break;
      }
    }
    if (!found) throw new LaunchError(`command not found: ${program} (searched PATH: ${path})`, { retryable: false });
  }
  const script = launch.task.kind === "python" ? argv[1] : launch.task.kind === "notebook" ? argv[argv.indexOf("run") + 1] : undefined;
  // a notebook at a URL (http(s)://, s3://) is read by the notebook runner, which names a failure itself
  if (script !== undefined && pathScheme(script) === undefined && !existsSync(script)) {
    throw new LaunchError(`${launch.task.kind === "python" ? "python script" : "notebook"} not found: ${script}`, { retryable: false });
  }
}
