/**
 * What CLI commands talk to: a running `capstan up` (or a remote server) over HTTP (http-client.ts),
 * or, when no scheduler runs against the home, the platform in this process. Both answer with the
 * same views, made by the same operations (src/operations/): the server's routes call them, and so
 * does the in-process client.
 */
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
import type { ConnectionSpec } from "../connections/index.js";
import { deleteConnection, listConnections, setConnection, testConnection } from "../operations/index.js";
import { createDeployment, deleteDeployment, deploymentDetail, deploymentKey, listDeployments, rollbackDeployment, scaleDeployment, type CreateDeploymentRequest } from "../operations/index.js";
import type { SandboxApiView, SandboxProfileView } from "../operations/index.js";
import type { LogChunk, PipelineDetail, RunView, TaskDetail } from "../operations/index.js";
import { NotFoundError } from "../scheduler/index.js";
import { ClientError } from "./errors.js";
import { httpClientFor, type CapstanClient } from "./http-client.js";
import { ServerOnlyStorageClient, type StorageClient } from "./storage/index.js";

export { HttpClient, httpClientFor, localToken, type CapstanClient } from "./http-client.js";
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

/** A client for the home: over HTTP when a scheduler with a server runs against it (or --server is given), else in-process. */
export function clientFor(config: CapstanConfig, server?: string): CapstanClient {
  return httpClientFor(config, server) ?? new InProcessClient(config);
}

/** Sandboxes need a server: they are owned by a signed-in user and reached through its proxy. */
function needsServer(): ClientError {
  return new ClientError("sandboxes are served by a running Capstan: start `capstan up` for this home, or use --server URL with `capstan login`", 2);
}
