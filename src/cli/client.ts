/**
 * What CLI commands talk to: a running `capstan up` (or a remote server) over HTTP, or, when no
 * scheduler runs against the home, the platform in this process. Both answer with the same views,
 * made by the same operations (src/operations/): the server's routes call them, and so does the
 * in-process client.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sameServer, savedCredential } from "../auth/cli-credentials.js";
import type { CapstanConfig } from "../config/index.js";
import {
  backfillRuns,
  cancelRun,
  clearTask,
  deletePool,
  deleteSecret,
  getRun,
  HOME_VIEWER,
  HomeContext,
  listModels,
  listPipelines,
  listPools,
  listRuns,
  listSecrets,
  markTask,
  modelDetail,
  modelVersionArchive,
  pipelineDetail,
  readTaskLog,
  registerModelVersion,
  setModelAlias,
  setPool,
  setSecret,
  taskDetail,
  triggerRun,
  watchRun,
  type RunListFilter,
} from "../operations/index.js";
import { coerceParamText, type ParamSpec, type PipelineSpec } from "../pipelines/index.js";
import { readSchedulerLock } from "../wiring/index.js";
import type { ConnectionSpec } from "../connections/index.js";
import { deleteConnection, listConnections, setConnection, testConnection, type ConnectionCheckView, type ConnectionView } from "../operations/index.js";
import type { ModelDetail, ModelSummary, ModelVersionView } from "../operations/index.js";
import { createDeployment, deleteDeployment, deploymentDetail, deploymentKey, listDeployments, rollbackDeployment, scaleDeployment, type CreateDeploymentRequest, type DeploymentKeyView, type DeploymentView } from "../operations/index.js";
import type { CreateSandboxRequest, SandboxApiView, SandboxProfileView } from "../operations/index.js";
import { type LogChunk, type PipelineDetail, type PipelineList, type PoolView, type RunView, type SecretSummary, type TaskDetail, type TaskView } from "../operations/index.js";
import { NotFoundError } from "../scheduler/index.js";
import { isFinishedRun } from "../store/index.js";
import { ClientError } from "./errors.js";
import { HttpStorageClient, ServerOnlyStorageClient, type StorageClient } from "./storage/index.js";

export interface CapstanClient {
  /** How commands reach the platform, for messages. */
  readonly mode: "server" | "in-process";
  listPipelines(): Promise<PipelineList>;
  getPipeline(id: string): Promise<PipelineDetail>;
  trigger(id: string, params: Record<string, unknown>, options: { logicalDate?: string; note?: string }): Promise<RunView>;
  backfill(id: string, from: string, to: string, params: Record<string, unknown>): Promise<{ created: string[]; existing: string[] }>;
  listRuns(filter: RunListFilter): Promise<{ total: number; runs: RunView[] }>;
  getRun(id: string): Promise<RunView>;
  getTask(runId: string, taskId: string): Promise<TaskDetail>;
  cancel(runId: string): Promise<RunView>;
  clear(runId: string, taskId: string, downstream: boolean): Promise<string[]>;
  mark(runId: string, taskId: string, state: "success" | "failed"): Promise<TaskView>;
  readLog(runId: string, taskId: string, tryNumber: number | undefined, offset: number): Promise<LogChunk>;
  listPools(): Promise<PoolView[]>;
  setPool(name: string, slots: number, description?: string): Promise<void>;
  deletePool(name: string): Promise<void>;
  listSecrets(team?: string): Promise<SecretSummary[]>;
  setSecret(team: string, name: string, data: Record<string, string>): Promise<void>;
  deleteSecret(team: string, name: string): Promise<void>;
  listConnections(team?: string): Promise<ConnectionView[]>;
  setConnection(team: string, name: string, spec: ConnectionSpec): Promise<ConnectionView>;
  deleteConnection(team: string, name: string): Promise<void>;
  testConnection(team: string, name: string): Promise<ConnectionCheckView>;
  listModels(team?: string): Promise<ModelSummary[]>;
  getModel(name: string): Promise<ModelDetail>;
  /** Registers a version from an absolute path on the platform's machine. */
  registerModel(name: string, path: string, options: { team?: string; run?: string; task?: string }): Promise<ModelVersionView>;
  setModelAlias(name: string, version: number, alias: string): Promise<ModelDetail>;
  /** Writes one version's files (by number or alias) to `target` as a single archive; answers the version. */
  fetchModelArchive(name: string, versionOrAlias: string, target: string): Promise<ModelVersionView>;
  listDeployments(filter?: { team?: string; model?: string }): Promise<DeploymentView[]>;
  getDeployment(name: string): Promise<DeploymentView>;
  createDeployment(request: CreateDeploymentRequest): Promise<DeploymentView>;
  scaleDeployment(name: string, replicas: number): Promise<DeploymentView>;
  rollbackDeployment(name: string): Promise<DeploymentView>;
  deleteDeployment(name: string): Promise<DeploymentView>;
  deploymentKey(name: string): Promise<DeploymentKeyView>;
  listSandboxes(filter?: { team?: string; mine?: boolean }): Promise<SandboxApiView[]>;
  sandboxProfiles(): Promise<SandboxProfileView[]>;
  createSandbox(request: CreateSandboxRequest): Promise<SandboxApiView>;
  startSandbox(id: string): Promise<SandboxApiView>;
  stopSandbox(id: string): Promise<SandboxApiView>;
  /** Deletes a stopped sandbox and its home; `confirm` must be its name. */
  deleteSandbox(id: string, confirm: string): Promise<void>;
  /** The one-time URL that opens the sandbox in a browser. */
  openSandbox(id: string): Promise<{ url: string }>;
  /** Volumes, files and share links (`capstan storage`). */
  readonly storage: StorageClient;
  /** Resolves when the run has finished; `onUpdate` sees each new state of it. */
  waitForRun(runId: string, onUpdate: (view: RunView) => void): Promise<RunView>;
  close(): Promise<void>;
}

export { ClientError };
export type { LogChunk, PipelineDetail, TaskDetail };

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
  readonly storage: StorageClient;
  constructor(
    readonly baseUrl: string,
    readonly token: string | undefined,
  ) {
    this.storage = new HttpStorageClient(baseUrl, token);
  }

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
    return this.#call<PipelineList>("GET", "/api/pipelines");
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
  listRuns(filter: RunListFilter) {
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
    return this.#call<LogChunk>("GET", `/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/logs?${query.toString()}`);
  }
  async listPools() {
    return (await this.#call<{ pools: PoolView[] }>("GET", "/api/pools")).pools;
  }
  async setPool(name: string, slots: number, description?: string) {
    await this.#call("PUT", `/api/pools/${encodeURIComponent(name)}`, { slots, ...(description ? { description } : {}) });
  }
  async deletePool(name: string) {
    await this.#call("DELETE", `/api/pools/${encodeURIComponent(name)}`);
  }
  async listSecrets(team?: string) {
    const query = team ? `?team=${encodeURIComponent(team)}` : "";
    return (await this.#call<{ secrets: SecretSummary[] }>("GET", `/api/secrets${query}`)).secrets;
  }
  async setSecret(team: string, name: string, data: Record<string, string>) {
    await this.#call("PUT", `/api/secrets/${encodeURIComponent(team)}/${encodeURIComponent(name)}`, { data });
  }
  async deleteSecret(team: string, name: string) {
    await this.#call("DELETE", `/api/secrets/${encodeURIComponent(team)}/${encodeURIComponent(name)}`);
  }
  async listConnections(team?: string) {
    const query = team ? `?team=${encodeURIComponent(team)}` : "";
    return (await this.#call<{ connections: ConnectionView[] }>("GET", `/api/connections${query}`)).connections;
  }
  async setConnection(team: string, name: string, spec: ConnectionSpec) {
    return this.#call<ConnectionView>("PUT", `/api/connections/${encodeURIComponent(team)}/${encodeURIComponent(name)}`, spec);
  }
  async deleteConnection(team: string, name: string) {
    await this.#call("DELETE", `/api/connections/${encodeURIComponent(team)}/${encodeURIComponent(name)}`);
  }
  async testConnection(team: string, name: string) {
    return this.#call<ConnectionCheckView>("POST", `/api/connections/${encodeURIComponent(team)}/${encodeURIComponent(name)}/test`);
  }
  async listModels(team?: string) {
    const query = team ? `?team=${encodeURIComponent(team)}` : "";
    return (await this.#call<{ models: ModelSummary[] }>("GET", `/api/models${query}`)).models;
  }
  async getModel(name: string) {
    return this.#call<ModelDetail>("GET", `/api/models/${encodeURIComponent(name)}`);
  }
  async registerModel(name: string, path: string, options: { team?: string; run?: string; task?: string }) {
    return this.#call<ModelVersionView>("POST", `/api/models/${encodeURIComponent(name)}/versions`, { path, ...options });
  }
  async setModelAlias(name: string, version: number, alias: string) {
    return this.#call<ModelDetail>("PUT", `/api/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`, { version });
  }
  async fetchModelArchive(name: string, versionOrAlias: string, target: string) {
    // The alias is resolved once; the archive is then fetched by number, so a move in between cannot mix versions.
    const version = await this.#call<ModelVersionView>("GET", `/api/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(versionOrAlias)}`);
    const path = `/api/models/${encodeURIComponent(name)}/versions/${version.version}/archive`;
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    } catch (error) {
      throw new ClientError(`cannot reach the Capstan server at ${this.baseUrl}: ${(error as Error).message}`, 1);
    }
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => "");
      let message = `HTTP ${response.status}`;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON
      }
      throw new ClientError(message, response.status >= 500 ? 1 : 2);
    }
    const { Readable } = await import("node:stream");
    const { writeModelArchive } = await import("../models/index.js");
    await writeModelArchive(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), target);
    return version;
  }
  async listDeployments(filter: { team?: string; model?: string } = {}) {
    const query = new URLSearchParams({ ...(filter.team ? { team: filter.team } : {}), ...(filter.model ? { model: filter.model } : {}) }).toString();
    return (await this.#call<{ deployments: DeploymentView[] }>("GET", `/api/deployments${query ? `?${query}` : ""}`)).deployments;
  }
  getDeployment(name: string) {
    return this.#call<DeploymentView>("GET", `/api/deployments/${encodeURIComponent(name)}`);
  }
  createDeployment(request: CreateDeploymentRequest) {
    return this.#call<DeploymentView>("POST", "/api/deployments", request);
  }
  scaleDeployment(name: string, replicas: number) {
    return this.#call<DeploymentView>("PUT", `/api/deployments/${encodeURIComponent(name)}/replicas`, { replicas });
  }
  rollbackDeployment(name: string) {
    return this.#call<DeploymentView>("POST", `/api/deployments/${encodeURIComponent(name)}/rollback`, {});
  }
  deleteDeployment(name: string) {
    return this.#call<DeploymentView>("DELETE", `/api/deployments/${encodeURIComponent(name)}`);
  }
  deploymentKey(name: string) {
    return this.#call<DeploymentKeyView>("GET", `/api/deployments/${encodeURIComponent(name)}/key`);
  }
  async listSandboxes(filter: { team?: string; mine?: boolean } = {}) {
    const query = new URLSearchParams({ ...(filter.team ? { team: filter.team } : {}), ...(filter.mine ? { mine: "true" } : {}) }).toString();
    return (await this.#call<{ sandboxes: SandboxApiView[] }>("GET", `/api/sandboxes${query ? `?${query}` : ""}`)).sandboxes;
  }
  async sandboxProfiles() {
    return (await this.#call<{ profiles: SandboxProfileView[] }>("GET", "/api/sandboxes/profiles")).profiles;
  }
  createSandbox(request: CreateSandboxRequest) {
    return this.#call<SandboxApiView>("POST", "/api/sandboxes", request);
  }
  startSandbox(id: string) {
    return this.#call<SandboxApiView>("POST", `/api/sandboxes/${encodeURIComponent(id)}/start`);
  }
  stopSandbox(id: string) {
    return this.#call<SandboxApiView>("POST", `/api/sandboxes/${encodeURIComponent(id)}/stop`);
  }
  async deleteSandbox(id: string, confirm: string) {
    await this.#call("DELETE", `/api/sandboxes/${encodeURIComponent(id)}`, { confirm });
  }
  openSandbox(id: string) {
    return this.#call<{ url: string }>("POST", `/api/sandboxes/${encodeURIComponent(id)}/open`);
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
      if (isFinishedRun(view.state)) return view;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

// ------------------------------------------------------------------ in this process

/**
 * Works on the home itself through the operations the API's routes also call (see HomeContext):
 * used only when no scheduler runs against the home; `waitForRun` runs one here, for `run --wait`.
 */
export class InProcessClient implements CapstanClient {
  readonly mode = "in-process" as const;
  readonly storage: StorageClient = new ServerOnlyStorageClient();
  readonly #home: HomeContext;

  constructor(readonly config: CapstanConfig) {
    this.#home = new HomeContext(config);
  }

  async listPipelines() {
    return listPipelines(await this.#home.ready({ pipelines: true }), HOME_VIEWER);
  }

  async getPipeline(id: string): Promise<PipelineDetail> {
    const home = await this.#home.ready({ pipelines: true });
    try {
      return await pipelineDetail(home, HOME_VIEWER, id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      const known = home.pipelines.list().map((p) => p.spec.id);
      const broken = (await home.loadErrors()).map((e) => e.file);
      throw new ClientError(`no pipeline ${JSON.stringify(id)} in ${this.config.pipelines.join(", ")}; known: ${known.join(", ") || "none"}${broken.length > 0 ? `; files that failed to load: ${broken.join(", ")}` : ""}`);
    }
  }

  async trigger(id: string, params: Record<string, unknown>, options: { logicalDate?: string; note?: string }) {
    const home = await this.#home.ready();
    const view = await triggerRun(home, id, { params, logical_date: options.logicalDate, note: options.note }, { trigger: "manual", createdBy: null });
    home.onlyRuns.add(view.id);
    return view;
  }

  async backfill(id: string, from: string, to: string, params: Record<string, unknown>) {
    const home = await this.#home.ready({ pipelines: true });
    const result = await backfillRuns(home, id, { from, to, params }, { createdBy: null });
    for (const runId of result.created) home.onlyRuns.add(runId);
    return result;
  }

  async listRuns(filter: RunListFilter) {
    return listRuns(await this.#home.ready(), filter, undefined, "full");
  }

  async getRun(id: string) {
    return getRun(await this.#home.ready(), id);
  }

  async getTask(runId: string, taskId: string) {
    return taskDetail(await this.#home.ready(), runId, taskId);
  }

  async cancel(runId: string) {
    return cancelRun(await this.#home.ready(), runId);
  }

  async clear(runId: string, taskId: string, downstream: boolean) {
    return clearTask(await this.#home.ready(), runId, taskId, downstream);
  }

  async mark(runId: string, taskId: string, state: "success" | "failed") {
    return markTask(await this.#home.ready(), runId, taskId, state);
  }

  async readLog(runId: string, taskId: string, tryNumber: number | undefined, offset: number) {
    return readTaskLog(await this.#home.ready(), runId, taskId, { try: tryNumber, offset });
  }

  async listPools() {
    return listPools(await this.#home.ready());
  }

  async setPool(name: string, slots: number, description?: string) {
    await setPool(await this.#home.ready(), name, slots, description);
  }

  async deletePool(name: string) {
    await deletePool(await this.#home.ready(), name);
  }

  async listSecrets(team?: string) {
    return listSecrets(await this.#home.ready(), HOME_VIEWER, team);
  }

  async setSecret(team: string, name: string, data: Record<string, string>) {
    await setSecret(await this.#home.ready(), team, name, data);
  }

  async deleteSecret(team: string, name: string) {
    await deleteSecret(await this.#home.ready(), team, name);
  }

  async listConnections(team?: string) {
    return listConnections(await this.#home.ready(), HOME_VIEWER, team);
  }

  async setConnection(team: string, name: string, spec: ConnectionSpec) {
    return setConnection(await this.#home.ready(), team, name, spec);
  }

  async deleteConnection(team: string, name: string) {
    await deleteConnection(await this.#home.ready(), team, name);
  }

  async testConnection(team: string, name: string) {
    return testConnection(await this.#home.ready(), team, name);
  }

  async listModels(team?: string) {
    return listModels(await this.#home.ready(), HOME_VIEWER, team);
  }

  async getModel(name: string) {
    return modelDetail(await this.#home.ready(), HOME_VIEWER, name);
  }

  async registerModel(name: string, path: string, options: { team?: string; run?: string; task?: string }) {
    const home = await this.#home.ready({ pipelines: true });
    let team = options.team;
    if (team === undefined && options.run !== undefined) {
      const run = await home.store.runs.get(options.run);
      if (run) team = home.pipelines.get(run.pipelineId)?.spec.team ?? (await home.store.pipelines.get(run.pipelineId))?.team;
    }
    return registerModelVersion(home, { name, path, team: team ?? "default", runId: options.run, taskId: options.task });
  }

  async setModelAlias(name: string, version: number, alias: string) {
    return setModelAlias(await this.#home.ready(), HOME_VIEWER, name, version, alias);
  }

  async fetchModelArchive(name: string, versionOrAlias: string, target: string) {
    const { version, stream } = await modelVersionArchive(await this.#home.ready(), HOME_VIEWER, name, versionOrAlias);
    const { writeModelArchive } = await import("../models/index.js");
    await writeModelArchive(stream, target);
    return version;
  }

  // Deployments are recorded here; the replicas run when `capstan up` runs against this home.
  async listDeployments(filter: { team?: string; model?: string } = {}) {
    return listDeployments(await this.#home.ready(), HOME_VIEWER, filter);
  }
  async getDeployment(name: string) {
    return deploymentDetail(await this.#home.ready(), HOME_VIEWER, name);
  }
  async createDeployment(request: CreateDeploymentRequest) {
    return createDeployment(await this.#home.ready(), HOME_VIEWER, request, { clusters: Object.keys(this.config.clusters) });
  }
  async scaleDeployment(name: string, replicas: number) {
    return scaleDeployment(await this.#home.ready(), HOME_VIEWER, name, replicas);
  }
  async rollbackDeployment(name: string) {
    return rollbackDeployment(await this.#home.ready(), HOME_VIEWER, name);
  }
  async deleteDeployment(name: string) {
    return deleteDeployment(await this.#home.ready(), HOME_VIEWER, name);
  }
  async deploymentKey(name: string) {
    return deploymentKey(await this.#home.ready(), HOME_VIEWER, name);
  }

  // Sandboxes belong to a signed-in user and are opened through the server's proxy: only a server serves them.
  listSandboxes(): Promise<SandboxApiView[]> {
    return Promise.reject(needsServer());
  }
  sandboxProfiles(): Promise<SandboxProfileView[]> {
    return Promise.reject(needsServer());
  }
  createSandbox(): Promise<SandboxApiView> {
    return Promise.reject(needsServer());
  }
  startSandbox(): Promise<SandboxApiView> {
    return Promise.reject(needsServer());
  }
  stopSandbox(): Promise<SandboxApiView> {
    return Promise.reject(needsServer());
  }
  deleteSandbox(): Promise<void> {
    return Promise.reject(needsServer());
  }
  openSandbox(): Promise<{ url: string }> {
    return Promise.reject(needsServer());
  }

  /** Runs the scheduler here until the run finishes (its tasks, and nothing else, are scheduled). */
  async waitForRun(runId: string, onUpdate: (view: RunView) => void): Promise<RunView> {
    const platform = await this.#home.platform();
    this.#home.onlyRuns.add(runId);
    const done = watchRun(platform.store, platform.scheduler.events, runId, onUpdate);
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

  close(): Promise<void> {
    return this.#home.close();
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

/** Sandboxes need a server: they are owned by a signed-in user and reached through its proxy. */
function needsServer(): ClientError {
  return new ClientError("sandboxes are served by a running Capstan: start `capstan up` for this home, or use --server URL with `capstan login`", 2);
}
