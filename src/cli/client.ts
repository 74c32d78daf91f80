/**
 * What CLI commands talk to: a running `capstan up` (or a remote server) over HTTP, or, when no
 * scheduler runs against the home, the platform in this process. Both answer with the same views.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sameServer, savedCredential } from "../auth/cli-credentials.js";
import type { CapstanConfig } from "../config/index.js";
import pino from "pino";
import { ClientError } from "./errors.js";
import { readLogChunk } from "../logs/index.js";
import { coerceParamText, PipelineRegistry, type ParamSpec, type PipelineSpec } from "../pipelines/index.js";
import {
  acquireSchedulerLock,
  attemptView,
  loadRunView,
  Platform,
  pipelineSummary,
  readSchedulerLock,
  runView,
  taskView,
  type AttemptView,
  type PipelineSummaryView,
  type RunView,
  type TaskView,
} from "../platform/index.js";
import type { StateChange } from "../scheduler/index.js";
import { loadSecretKey, SecretService } from "../secrets/index.js";
import { redactRunViews, redactTaskFields, redactValues } from "../server/views/redact-values.js";
import { isFinishedRun, Store, type RunState } from "../store/index.js";

export interface PipelineDetail extends PipelineSummaryView {
  spec: PipelineSpec;
  source: string;
}

export interface LoadErrorView {
  file: string;
  message: string;
}

export interface TaskDetail extends TaskView {
  run: string;
  task: string;
  attempts: AttemptView[];
}

export interface LogRead {
  try: number;
  text: string;
  next: number;
  done: boolean;
}

export interface CapstanClient {
  /** How commands reach the platform, for messages. */
  readonly mode: "server" | "in-process";
  listPipelines(): Promise<{ pipelines: PipelineSummaryView[]; errors: LoadErrorView[] }>;
  getPipeline(id: string): Promise<PipelineDetail>;
  trigger(id: string, params: Record<string, unknown>, options: { logicalDate?: string; note?: string }): Promise<RunView>;
  backfill(id: string, from: string, to: string, params: Record<string, unknown>): Promise<{ created: string[]; existing: string[] }>;
  listRuns(filter: { pipeline?: string; state?: RunState; limit?: number; offset?: number }): Promise<{ total: number; runs: RunView[] }>;
  getRun(id: string): Promise<RunView>;
  getTask(runId: string, taskId: string): Promise<TaskDetail>;
  cancel(runId: string): Promise<RunView>;
  clear(runId: string, taskId: string, downstream: boolean): Promise<string[]>;
  mark(runId: string, taskId: string, state: "success" | "failed"): Promise<TaskView>;
  readLog(runId: string, taskId: string, tryNumber: number | undefined, offset: number): Promise<LogRead>;
  listPools(): Promise<{ name: string; slots: number; description: string | null; used: number }[]>;
  setPool(name: string, slots: number, description?: string): Promise<void>;
  deletePool(name: string): Promise<void>;
  listSecrets(team?: string): Promise<{ team: string; name: string; keys: string[]; updated_at: string }[]>;
  setSecret(team: string, name: string, data: Record<string, string>): Promise<void>;
  deleteSecret(team: string, name: string): Promise<void>;
  /** Resolves when the run has finished; `onUpdate` sees each new state of it. */
  waitForRun(runId: string, onUpdate: (view: RunView) => void): Promise<RunView>;
  close(): Promise<void>;
}

export { ClientError };

/** Converts `-p name=value` texts to the types the pipeline declares. */
export function typedParams(spec: PipelineSpec, texts: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const text of texts) {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new ClientError(`-p ${JSON.stringify(text)}: write params as name=value`);
    const name = text.slice(0, eq);
    const declared: ParamSpec | undefined = spec.params[name];
    if (!declared) {
      const known = Object.keys(spec.params);
      throw new ClientError(`unknown param ${JSON.stringify(name)} for pipeline ${spec.id}; it accepts ${known.length > 0 ? known.join(", ") : "no params"}`);
    }
    params[name] = coerceParamText(name, declared, text.slice(eq + 1));
  }
  return params;
}

// ------------------------------------------------------------------ over HTTP

/** Talks to a Capstan server's HTTP API. */
export class HttpClient implements CapstanClient {
  readonly mode = "server" as const;
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (error) {
      throw new ClientError(`cannot reach the Capstan server at ${this.baseUrl}: ${(error as Error).message}`, 1);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let payload: unknown;
    try {
      payload = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw new ClientError(`the server at ${this.baseUrl} answered ${response.status} with a body that is not JSON`, 1);
    }
    if (!response.ok) {
      const message = (payload as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${response.status}`;
      throw new ClientError(message, response.status >= 500 ? 1 : 2);
    }
    return payload as T;
  }

  listPipelines() {
    return this.#call<{ pipelines: PipelineSummaryView[]; errors: LoadErrorView[] }>("GET", "/api/pipelines");
  }
  getPipeline(id: string) {
    return this.#call<PipelineDetail>("GET", `/api/pipelines/${encodeURIComponent(id)}`);
  }
  trigger(id: string, params: Record<string, unknown>, options: { logicalDate?: string; note?: string }) {
    return this.#call<RunView>("POST", `/api/pipelines/${encodeURIComponent(id)}/runs`, { params, ...(options.logicalDate ? { logical_date: options.logicalDate } : {}), ...(options.note ? { note: options.note } : {}) });
  }
  backfill(id: string, from: string, to: string, params: Record<string, unknown>) {
    return this.#call<{ created: string[]; existing: string[] }>("POST", `/api/pipelines/${encodeURIComponent(id)}/backfill`, { from, to, params });
  }
  listRuns(filter: { pipeline?: string; state?: RunState; limit?: number; offset?: number }) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) query.set(k, String(v));
    return this.#call<{ total: number; runs: RunView[] }>("GET", `/api/runs?${query.toString()}`);
  }
  getRun(id: string) {
    return this.#call<RunView>("GET", `/api/runs/${encodeURIComponent(id)}`);
  }
  getTask(runId: string, taskId: string) {
    return this.#call<TaskDetail>("GET", `/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}`);
  }
  cancel(runId: string) {
    return this.#call<RunView>("POST", `/api/runs/${encodeURIComponent(runId)}/cancel`, {});
  }
  async clear(runId: string, taskId: string, downstream: boolean) {
    return (await this.#call<{ cleared: string[] }>("POST", `/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/clear`, { downstream })).cleared;
  }
  mark(runId: string, taskId: string, state: "success" | "failed") {
    return this.#call<TaskView>("POST", `/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/mark`, { state });
  }
  readLog(runId: string, taskId: string, tryNumber: number | undefined, offset: number) {
    const query = new URLSearchParams({ offset: String(offset) });
    if (tryNumber !== undefined) query.set("try", String(tryNumber));
    return this.#call<LogRead>("GET", `/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/logs?${query.toString()}`);
  }
  async listPools() {
    return (await this.#call<{ pools: { name: string; slots: number; description: string | null; used: number }[] }>("GET", "/api/pools")).pools;
  }
  async setPool(name: string, slots: number, description?: string) {
    await this.#call("PUT", `/api/pools/${encodeURIComponent(name)}`, { slots, ...(description ? { description } : {}) });
  }
  async deletePool(name: string) {
    await this.#call("DELETE", `/api/pools/${encodeURIComponent(name)}`);
  }
  async listSecrets(team?: string) {
    const query = team ? `?team=${encodeURIComponent(team)}` : "";
    return (await this.#call<{ secrets: { team: string; name: string; keys: string[]; updated_at: string }[] }>("GET", `/api/secrets${query}`)).secrets;
  }
  async setSecret(team: string, name: string, data: Record<string, string>) {
    await this.#call("PUT", `/api/secrets/${encodeURIComponent(team)}/${encodeURIComponent(name)}`, { data });
  }
  async deleteSecret(team: string, name: string) {
    await this.#call("DELETE", `/api/secrets/${encodeURIComponent(team)}/${encodeURIComponent(name)}`);
  }
  async waitForRun(runId: string, onUpdate: (view: RunView) => void): Promise<RunView> {
    let last = "";
    for (;;) {
      const view = await this.getRun(runId);
      const signature = JSON.stringify([view.state, Object.values(view.tasks).map((t) => [t.state, t.tries])]);
      if (signature !== last) {
        last = signature;
        onUpdate(view);
      }
      if (isFinishedRun(view.state as RunState)) return view;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

// ------------------------------------------------------------------ in this process

/**
 * Works on the home directly: reads from the store, and for changes opens the platform here. Used
 * only when no scheduler runs against the home; `startScheduler` runs one here for `run --wait`.
 */
export class InProcessClient implements CapstanClient {
  readonly mode = "in-process" as const;
  #store: Store | undefined;
  #platform: Platform | undefined;
  #lock: { release(): void } | undefined;
  readonly #onlyRuns = new Set<string>();

  constructor(readonly config: CapstanConfig) {}

  async #readStore(): Promise<Store> {
    if (this.#platform) return this.#platform.store;
    this.#store ??= await Store.open({ url: this.config.databaseUrl });
    return this.#store;
  }

  /** Opens the platform (taking the home's scheduler lock); it schedules only runs this client starts. */
  async #open(): Promise<Platform> {
    if (this.#platform) return this.#platform;
    if (!/^postgres/.test(this.config.databaseUrl)) this.#lock = acquireSchedulerLock(this.config.home, "run");
    if (this.#store) {
      await this.#store.close();
      this.#store = undefined;
    }
    const logger = pino({ level: process.env.CAPSTAN_LOG_LEVEL ?? "warn" }, pino.destination(2));
    this.#platform = await Platform.open({ config: this.config, onlyRuns: this.#onlyRuns, logger });
    return this.#platform;
  }

  async #loaded() {
    const platform = this.#platform;
    if (platform) return platform.registry;
    const registry = new PipelineRegistry({ paths: this.config.pipelines, loadTimeoutMs: this.config.pipelineLoadTimeoutMs });
    await registry.load();
    return registry;
  }

  async listPipelines() {
    const registry = await this.#loaded();
    const store = await this.#readStore();
    const rows = new Map((await store.pipelines.list()).map((r) => [r.id, r]));
    const pipelines: PipelineSummaryView[] = [];
    for (const loaded of registry.list()) {
      pipelines.push(pipelineSummary(loaded, rows.get(loaded.spec.id)?.paused === 1, await store.runs.list({ pipelineId: loaded.spec.id, limit: 10 })));
    }
    return { pipelines, errors: registry.errors().map((e) => ({ file: e.file, message: e.message })) };
  }

  async getPipeline(id: string): Promise<PipelineDetail> {
    const registry = await this.#loaded();
    const loaded = registry.get(id);
    if (!loaded) {
      const known = registry.list().map((p) => p.spec.id);
      const broken = registry.errors().map((e) => e.file);
      throw new ClientError(`no pipeline ${JSON.stringify(id)} in ${this.config.pipelines.join(", ")}; known: ${known.join(", ") || "none"}${broken.length > 0 ? `; files that failed to load: ${broken.join(", ")}` : ""}`);
    }
    const store = await this.#readStore();
    const row = await store.pipelines.get(id);
    return { ...pipelineSummary(loaded, row?.paused === 1, await store.runs.list({ pipelineId: id, limit: 10 })), spec: loaded.spec, source: loaded.source };
  }

  async trigger(id: string, params: Record<string, unknown>, options: { logicalDate?: string; note?: string }) {
    const platform = await this.#open();
    const run = await platform.scheduler.trigger(id, { params, ...(options.logicalDate ? { logicalDate: Date.parse(options.logicalDate) } : {}), note: options.note ?? null });
    this.#onlyRuns.add(run.id);
    return (await loadRunView(platform.store, run.id)) as RunView;
  }

  async backfill(id: string, from: string, to: string, params: Record<string, unknown>) {
    const platform = await this.#open();
    const result = await platform.scheduler.backfill(id, Date.parse(from), Date.parse(to), { params });
    for (const run of result.created) this.#onlyRuns.add(run.id);
    return { created: result.created.map((r) => r.id), existing: result.existing };
  }

  async listRuns(filter: { pipeline?: string; state?: RunState; limit?: number; offset?: number }) {
    const store = await this.#readStore();
    const query = { ...(filter.pipeline ? { pipelineId: filter.pipeline } : {}), ...(filter.state ? { states: [filter.state] } : {}) };
    const runs = await store.runs.list({ ...query, limit: filter.limit ?? 100, offset: filter.offset ?? 0 });
    const tasks = await store.tasks.listByRuns(runs.map((r) => r.id));
    return { total: await store.runs.count(query), runs: await redactRunViews(runs.map((r) => runView(r, tasks.filter((t) => t.runId === r.id))), this.#redact) };
  }

  async getRun(id: string) {
    const view = await loadRunView(await this.#readStore(), id);
    if (!view) throw new ClientError(`no run ${JSON.stringify(id)} in ${this.config.home}`);
    const [masked] = await redactRunViews([view], this.#redact);
    return masked ?? view;
  }

  async getTask(runId: string, taskId: string): Promise<TaskDetail> {
    const store = await this.#readStore();
    const ti = await store.tasks.get({ runId, taskId });
    if (!ti) throw new ClientError(`no task ${JSON.stringify(taskId)} in run ${JSON.stringify(runId)}`);
    // Failure reasons and outputs are what a task wrote: masked as the API masks them.
    const [view] = await redactTaskFields([taskView(ti)], this.#redact);
    return { run: runId, task: taskId, ...(view ?? taskView(ti)), attempts: await redactValues((await store.attempts.listByTask(ti)).map(attemptView), this.#redact) };
  }

  async cancel(runId: string) {
    const platform = await this.#open();
    await platform.scheduler.cancel(runId);
    return this.getRun(runId);
  }

  async clear(runId: string, taskId: string, downstream: boolean) {
    return (await this.#open()).scheduler.clear(runId, [taskId], { downstream });
  }

  async mark(runId: string, taskId: string, state: "success" | "failed") {
    return taskView(await (await this.#open()).scheduler.mark(runId, taskId, state));
  }

  async readLog(runId: string, taskId: string, tryNumber: number | undefined, offset: number): Promise<LogRead> {
    const store = await this.#readStore();
    const ti = await store.tasks.get({ runId, taskId });
    if (!ti) throw new ClientError(`no task ${JSON.stringify(taskId)} in run ${JSON.stringify(runId)}`);
    const number = tryNumber ?? ti.tryNumber;
    if (number === 0) return { try: 0, text: "", next: 0, done: isFinishedRun((await store.runs.get(runId))?.state ?? "failed") };
    const attempt = await store.attempts.get({ runId, taskId, tryNumber: number });
    if (!attempt) throw new ClientError(`task ${taskId} of run ${runId} has no try ${number} (it has ${ti.tryNumber})`);
    const done = attempt.state !== "launching" && attempt.state !== "running";
    // Masked on the bytes around the range, a secret's unfinished start held back while the attempt runs (as the API does).
    const chunk = await readLogChunk(attempt.logPath ?? "", offset, { mask: await (await this.#secrets()).mask(), live: !done });
    return { try: number, text: chunk.text, next: chunk.next, done: done && chunk.next >= chunk.size };
  }

  async listPools() {
    const store = await this.#readStore();
    const usage = await store.tasks.activeUsage();
    return (await store.pools.list()).map((p) => ({ name: p.name, slots: p.slots, description: p.description, used: usage.byPool.get(p.name) ?? 0 }));
  }

  async setPool(name: string, slots: number, description?: string) {
    await (await this.#readStore()).pools.upsert(name, slots, description ?? null, Date.now());
  }

  readonly #redact = async (text: string): Promise<string> => (await this.#secrets()).redact(text);

  async #secrets(): Promise<SecretService> {
    return new SecretService(await this.#readStore(), loadSecretKey(this.config.home));
  }

  async listSecrets(team?: string) {
    return (await (await this.#secrets()).list(team)).map((s) => ({ team: s.team, name: s.name, keys: s.keys, updated_at: new Date(s.updatedAt).toISOString() }));
  }

  async setSecret(team: string, name: string, data: Record<string, string>) {
    await (await this.#secrets()).set(team, name, data);
  }

  async deleteSecret(team: string, name: string) {
    if (!(await (await this.#secrets()).delete(team, name))) throw new ClientError(`team ${team} has no secret ${JSON.stringify(name)}`);
  }

  async deletePool(name: string) {
    if (name === "default") throw new ClientError("the default pool cannot be deleted");
    if (!(await (await this.#readStore()).pools.delete(name))) throw new ClientError(`no pool ${JSON.stringify(name)}`);
  }

  /** Runs the scheduler here until the run finishes (its tasks, and nothing else, are scheduled). */
  async waitForRun(runId: string, onUpdate: (view: RunView) => void): Promise<RunView> {
    const platform = await this.#open();
    this.#onlyRuns.add(runId);
    const done = new Promise<void>((resolve) => {
      let pending = false;
      const refresh = () => {
        if (pending) return;
        pending = true;
        setImmediate(() => {
          pending = false;
          void loadRunView(platform.store, runId).then((view) => {
            if (!view) return;
            onUpdate(view);
            if (isFinishedRun(view.state as RunState)) {
              platform.scheduler.events.off("change", listener);
              resolve();
            }
          });
        });
      };
      const listener = (change: StateChange) => {
        if (change.runId === runId) refresh();
      };
      platform.scheduler.events.on("change", listener);
      refresh();
    });
    // Attempts and timers do not hold the event loop open on their own; this keeps the process alive until the run ends.
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      await platform.start();
      await done;
    } finally {
      clearInterval(keepAlive);
    }
    return this.getRun(runId);
  }

  async close(): Promise<void> {
    await this.#platform?.close();
    await this.#store?.close();
    this.#lock?.release();
  }
}

/** The token the CLI sends: CAPSTAN_TOKEN, else the one `capstan up` keeps for local commands. */
export function localToken(home: string): string | undefined {
  if (process.env.CAPSTAN_TOKEN) return process.env.CAPSTAN_TOKEN;
  try {
    return readFileSync(join(home, "cli-token"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A client for the home: over HTTP when a scheduler with a server runs against it, else in-process. */
export function clientFor(config: CapstanConfig, server?: string): CapstanClient {
  const lock = readSchedulerLock(config.home);
  if (server) {
    // CAPSTAN_TOKEN, else what `capstan login` saved for that server; this home's local token only goes to this home's own server.
    const local = lock?.url && sameServer(lock.url, server) ? localToken(config.home) : undefined;
    return new HttpClient(server, process.env.CAPSTAN_TOKEN ?? savedCredential(server)?.token ?? local);
  }
  if (lock?.url) return new HttpClient(lock.url, localToken(config.home) ?? savedCredential(lock.url)?.token);
  if (lock) throw new ClientError(`a scheduler (pid ${lock.pid}, capstan ${lock.mode}) runs against ${config.home} without a server; wait for it to finish`, 3);
  return new InProcessClient(config);
}
