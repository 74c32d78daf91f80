/**
 * The Executor interface: how the scheduler starts, stops and re-finds task attempts, whatever runs
 * them (local process groups, Kubernetes pods). Executors know nothing of HTTP or of the store.
 */
import type { TaskResources, TaskSpec } from "../pipelines/index.js";
import type { YarnTarget } from "../spark/index.js";

/** Identifies an attempt in the executor and in the store. */
export interface AttemptRef {
  runId: string;
  taskId: string;
  tryNumber: number;
  /** Random per attempt; local processes carry it in their environment. */
  token: string;
}

/** Everything an executor needs to launch one attempt; templates are already rendered. */
export interface AttemptLaunch extends AttemptRef {
  pipelineId: string;
  pipelineVersion: string;
  /** The rendered task (command, args, parameters, env are final). */
  task: TaskSpec;
  /** The folder relative paths in the task resolve against (the pipeline file's folder). */
  baseDir: string;
  /** Environment of the run context (CAPSTAN_RUN_ID, CAPSTAN_OUTPUT, …) merged over the task's env. */
  env: Record<string, string>;
  /**
   * The names in `env` whose values come from the team's secret store: executors that hand the
   * environment to another system keep these out of what it shows (a pod's spec, say).
   */
  secretEnv?: readonly string[];
  resources: TaskResources;
  /** A folder of this attempt's own: outputs, status and side files. */
  attemptDir: string;
  /** Where the attempt's stdout and stderr go. */
  logPath: string;
  /** Where the task writes its JSON outputs (the value of $CAPSTAN_OUTPUT). */
  outputPath: string;
  /** A folder shared by the run's tasks for large artifacts. */
  artifactsDir: string;
  /** The YARN ResourceManager of the task's first webhdfs connection, when it names one (a spark task's application is killed through it). */
  yarn?: YarnTarget;
}

/** What the executor recorded at launch, stored with the attempt. */
export interface LaunchInfo {
  /** Deterministic external id (pod name, or local:<token>). */
  externalId: string;
  pid?: number;
  pidStart?: number;
}

/** How an attempt ended. */
export interface AttemptEnd {
  /** success: exit 0; failed: non-zero or killed; skipped: an exit code listed in skip_on_exit_code; lost: the process or pod vanished. */
  outcome: "success" | "failed" | "skipped" | "lost";
  exitCode: number | null;
  /** A human reason for anything but success: "exit code 3", "OOMKilled", "killed by SIGKILL", … */
  reason: string | null;
  outputs: Record<string, unknown> | null;
  /** False when retrying cannot help (the task can never fit this executor). */
  retryable: boolean;
  /** What the executor did (or could not do) to what the attempt left outside it, e.g. "YARN application … killed"; kept beside a kill's reason. */
  cleanup?: string;
}

/** The executor's view of an attempt it is asked to re-find after a restart. */
export type AdoptResult = { status: "running" } | { status: "ended"; end: AttemptEnd };

/** A stored attempt the executor may adopt. */
export interface StoredAttempt extends AttemptRef {
  externalId: string;
  pid: number | null;
  pidStart: number | null;
  attemptDir: string | null;
  logPath: string | null;
  killReason: string | null;
}

export type AttemptEndListener = (ref: AttemptRef, end: AttemptEnd) => void;

/** A launch that cannot succeed; the attempt fails with this reason. */
export class LaunchError extends Error {
  override readonly name = "LaunchError";
  readonly retryable: boolean;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
  }
}

export interface Executor {
  readonly name: string;
  /** Registers the listener for ended attempts (one per executor, set by the scheduler). */
  onAttemptEnd(listener: AttemptEndListener): void;
  /**
   * Whether the attempt fits now (slots, resources). Returning false leaves the task scheduled;
   * throwing LaunchError fails it (it can never fit).
   */
  canLaunch(launch: Pick<AttemptLaunch, "resources" | "task">): boolean;
  /** Starts the attempt. Resolves once it is started; its end arrives through the listener. */
  launch(launch: AttemptLaunch): Promise<LaunchInfo>;
  /** Stops a running attempt (the whole process group or the pod); its end still arrives. */
  kill(ref: AttemptRef, reason: string): Promise<void>;
  /** Re-finds attempts that were running before a restart; ended ones report how they ended. */
  adopt(attempts: readonly StoredAttempt[]): Promise<Map<string, AdoptResult>>;
  /** Stops watching; running attempts keep running (they are adopted on the next start). */
  close(): Promise<void>;
}

/** The key of an attempt in maps. */
export function attemptKey(ref: Pick<AttemptRef, "runId" | "taskId" | "tryNumber">): string {
  return `${ref.runId}\u0000${ref.taskId}\u0000${ref.tryNumber}`;
}
