/**
 * The client of a Capstan server over HTTP, and the interface every client of the CLI has. Kept apart
 * from the in-process client (client.ts) so that commands talking to a server load no engine code:
 * only type imports from the operations and a light storage client.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sameServer, savedCredential } from "../auth/cli-credentials.js";
import type { CapstanConfig } from "../config/index.js";
import type { ConnectionSpec } from "../connections/index.js";
import type {
  ConnectionCheckView,
  ConnectionView,
  CreateDeploymentRequest,
  CreateSandboxRequest,
  DeploymentKeyView,
  DeploymentView,
  LogChunk,
  ModelDetail,
  ModelSummary,
  ModelVersionView,
  PipelineDetail,
  PipelineList,
  PoolView,
  RunListFilter,
  RunView,
  SandboxApiView,
  SandboxProfileView,
  SecretSummary,
  TaskDetail,
  TaskView,
} from "../operations/index.js";
import { isFinishedRun } from "../store/states.js";
import { readSchedulerLock } from "../wiring/scheduler-lock.js";
import { ClientError } from "./errors.js";
import { HttpStorageClient, type StorageClient } from "./storage/index.js";

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

/** The token the CLI sends: CAPSTAN_TOKEN, else the one `capstan up` keeps for local commands. */
export function localToken(home: string): string | undefined {
  if (process.env.CAPSTAN_TOKEN) return process.env.CAPSTAN_TOKEN;
  try {
    return readFileSync(join(home, "cli-token"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A client over HTTP for the home when one is to be used: the --server given, else the `capstan up`
 * running against the home; undefined when commands work on the home in this process.
 */
export function httpClientFor(config: CapstanConfig, server?: string): HttpClient | undefined {
  const lock = readSchedulerLock(config.home);
  if (server) {
    // CAPSTAN_TOKEN, else what `capstan login` saved for that server; this home's local token only goes to this home's own server.
    const local = lock?.url && sameServer(lock.url, server) ? localToken(config.home) : undefined;
    return new HttpClient(server, process.env.CAPSTAN_TOKEN ?? savedCredential(server)?.token ?? local);
  }
  if (lock?.url) return new HttpClient(lock.url, localToken(config.home) ?? savedCredential(lock.url)?.token);
  if (lock) throw new ClientError(`a scheduler (pid ${lock.pid}, capstan ${lock.mode}) runs against ${config.home} without a server; wait for it to finish`, 3);
  return undefined;
}
