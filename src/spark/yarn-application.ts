/**
 * A `spark:` task's application on YARN: its id, read from spark-submit's log, and killing it
 * through the ResourceManager's REST API (PUT /ws/v1/cluster/apps/ID/state {"state":"KILLED"}),
 * which is what `yarn application -kill` does. Killing spark-submit alone leaves a cluster-mode
 * application running, and a client-mode one that never got containers waiting in the queue.
 *
 * The request carries the connection's Hadoop user as `user.name` (simple authentication): the
 * application id comes from a log the task writes, so the kill is done with no more right than the
 * task's own Hadoop identity already has.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { readRange } from "./driver-log.js";
import { readAtMost } from "../http-body/index.js";

/** The ResourceManager a task's YARN application is killed through (from its webhdfs connection). */
export interface YarnTarget {
  /** http(s)://host:port of the ResourceManager's web app (its REST API is under /ws/v1). */
  resourceManagerUrl: string;
  /** The Hadoop user the application runs as (the connection's `user`). */
  user?: string;
}

/** A YARN application id as YARN prints it. */
const APPLICATION_ID = /^application_\d{1,20}_\d{1,10}$/;
/** Spark's Client logs the id when it asks for it ("Submitting application …") and after submitting ("Submitted application …"). */
const SUBMITTED = /\bSubmit(?:ting|ted) application (application_\d{1,20}_\d{1,10})\b/;
/** How much of the log's start is searched for the id. */
const HEAD_BYTES = 512 * 1024;
/** What readState says of an id the ResourceManager does not know (404). */
const UNKNOWN = "UNKNOWN";
/** How long an unknown id is given to arrive (its submission was under way). */
const UNKNOWN_WAIT_MS = 5_000;
/** States after which YARN runs nothing more of the application. */
const FINAL_STATES = new Set(["FINISHED", "FAILED", "KILLED"]);

/** The application id spark-submit logged, or undefined. */
export function yarnApplicationId(log: string): string | undefined {
  return SUBMITTED.exec(log)?.[1];
}

/** The application id from the start of a spark-submit log file, or undefined. */
export function readYarnApplicationId(logPath: string): string | undefined {
  return yarnApplicationId(readRange(logPath, false, HEAD_BYTES));
}

/** The ResourceManager UI's page of the application. */
export function yarnApplicationUrl(target: YarnTarget, applicationId: string): string {
  return `${target.resourceManagerUrl.replace(/\/+$/, "")}/cluster/app/${applicationId}`;
}

/**
 * The application's tracking URL through the ResourceManager's web proxy: the running driver's
 * Spark UI, and once it ended, the Spark history server's page when the cluster names one
 * (spark.yarn.historyServer.address).
 */
export function yarnTrackingUrl(target: YarnTarget, applicationId: string): string {
  return `${target.resourceManagerUrl.replace(/\/+$/, "")}/proxy/${applicationId}/`;
}

/** The application tag Capstan adds to a task's submission (YARN keeps tags lowercase). */
export function yarnAttemptTag(token: string): string {
  return `capstan-attempt-${token.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
}

export interface YarnKillOptions {
  /** How long to wait for the application to reach a final state. */
  timeoutMs?: number;
  /** Time between state reads while it goes down. */
  pollMs?: number;
}

/** What a kill found: the state the application was in, and whether Capstan killed it. */
export interface YarnKillResult {
  applicationId: string;
  /** The application's final state (KILLED when Capstan killed it); NOT_SUBMITTED when the ResourceManager never knew it. */
  state: string;
  /** Whether it was still queued or running, so Capstan asked YARN to kill it. */
  killed: boolean;
}

/**
 * Kills the application unless it already ended, and waits until YARN reports it in a final
 * state. Throws with what the ResourceManager answered when it cannot.
 */
export async function killYarnApplication(target: YarnTarget, applicationId: string, options: YarnKillOptions = {}): Promise<YarnKillResult> {
  if (!APPLICATION_ID.test(applicationId)) throw new Error(`${JSON.stringify(applicationId)} is not a YARN application id`);
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const url = stateUrl(target, applicationId);
  // spark-submit logs the id before it submits: killed in between, the application may reach the
  // ResourceManager a moment later, or never.
  let before = await readState(url, deadline);
  const unknownUntil = Math.min(deadline, Date.now() + UNKNOWN_WAIT_MS);
  while (before === UNKNOWN && Date.now() + (options.pollMs ?? 250) < unknownUntil) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    before = await readState(url, deadline);
  }
  if (before === UNKNOWN) return { applicationId, state: "NOT_SUBMITTED", killed: false };
  if (FINAL_STATES.has(before)) return { applicationId, state: before, killed: false };
  const answer = await request(url, deadline, { method: "PUT", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify({ state: "KILLED" }) });
  if (answer.status !== 200 && answer.status !== 202) throw new Error(`the ResourceManager refused to kill ${applicationId}: HTTP ${answer.status}${detail(answer.text)}`);
  for (;;) {
    const state = await readState(url, deadline);
    if (FINAL_STATES.has(state)) return { applicationId, state, killed: true };
    if (Date.now() + (options.pollMs ?? 250) > deadline) throw new Error(`${applicationId} was still ${state} ${Math.round((options.timeoutMs ?? 15_000) / 1000)} s after the kill was accepted`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}

function stateUrl(target: YarnTarget, applicationId: string): string {
  const url = new URL(`${target.resourceManagerUrl.replace(/\/+$/, "")}/ws/v1/cluster/apps/${applicationId}/state`);
  if (target.user !== undefined) url.searchParams.set("user.name", target.user);
  return url.toString();
}

async function readState(url: string, deadline: number): Promise<string> {
  const answer = await request(url, deadline, { method: "GET", headers: { accept: "application/json" } });
  if (answer.status === 404) return UNKNOWN;
  if (answer.status !== 200) throw new Error(`the ResourceManager answered HTTP ${answer.status} for the application's state${detail(answer.text)}`);
  let state: unknown;
  try {
    state = (JSON.parse(answer.text) as { state?: unknown }).state;
  } catch {
    state = undefined;
  }
  if (typeof state !== "string" || !/^[A-Z_]{1,32}$/.test(state)) throw new Error(`the ResourceManager's answer holds no application state: ${answer.text.slice(0, 200)}`);
  return state;
}

async function request(url: string, deadline: number, init: RequestInit): Promise<{ status: number; text: string }> {
  const remaining = Math.max(1, deadline - Date.now());
  let response: Response;
  try {
    // A standby ResourceManager redirects to the active one: not followed, the connection names the active one.
    response = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(remaining) });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw new Error(`the ResourceManager at ${new URL(url).origin} could not be reached: ${cause?.message ?? (error as Error).message}`);
  }
  const text = await readAtMost(response, 4096);
  if (response.status >= 300 && response.status < 400) {
    throw new Error(`the ResourceManager at ${new URL(url).origin} redirected (HTTP ${response.status}; a standby in an HA pair?): set resource_manager_url to the active one`);
  }
  return { status: response.status, text };
}

function detail(text: string): string {
  const message = /"message"\s*:\s*"([^"]{1,300})"/.exec(text)?.[1];
  return message === undefined ? "" : `: ${message}`;
}

/**
 * Where the platform keeps what it needs to kill a task's YARN application after a restart: a file
 * beside the attempt's folder, not in it, since the task may write its own folder.
 */
export function yarnTargetPath(attemptDir: string): string {
  return `${attemptDir.replace(/\/+$/, "")}.yarn.json`;
}

export function writeYarnTarget(attemptDir: string, target: YarnTarget): void {
  writeFileSync(yarnTargetPath(attemptDir), `${JSON.stringify(target)}\n`, { mode: 0o600 });
}

/** The target written at launch, or null for an attempt that runs nothing on YARN. */
export function readYarnTarget(attemptDir: string): YarnTarget | null {
  try {
    const parsed = JSON.parse(readFileSync(yarnTargetPath(attemptDir), "utf8")) as Partial<YarnTarget>;
    if (typeof parsed.resourceManagerUrl !== "string" || !/^https?:\/\//.test(parsed.resourceManagerUrl)) return null;
    return { resourceManagerUrl: parsed.resourceManagerUrl, ...(typeof parsed.user === "string" ? { user: parsed.user } : {}) };
  } catch {
    return null;
  }
}
