/**
 * The models a server holds: versions per name with one default, each with its archive, settings
 * and worker pool. Registering opens the archive, resolves settings and starts workers; a version
 * whose first worker cannot load is removed again, so a bad archive never stays half-registered.
 */
import { openModelArchive, resolveModelUrl, type ModelArchive } from "../archive/index.js";
import { badRequest, conflict, invalidModel, modelNotFound, ServingError, versionNotFound } from "../errors.js";
import { WorkerPool, type WorkerView } from "../workers/index.js";
import { resolveModelSettings, type ModelSettings, type RegisterParams, type ServerDefaults } from "./model-settings.js";

/** One registered version. */
export interface ModelVersion {
  name: string;
  version: string;
  url: string;
  archive: ModelArchive;
  settings: ModelSettings;
  pool: WorkerPool;
  loadedAtStartup: boolean;
}

/** What the manager needs from the server. */
export interface ModelManagerOptions {
  modelStore: string | undefined;
  allowedUrls: readonly string[];
  workDir: string;
  defaults: ServerDefaults;
  jobQueueSize: number;
  numberOfGpu: number;
  python: string;
  log: (line: string) => void;
  backoffMs?: readonly number[];
}

/** A register call. */
export interface RegisterRequest extends RegisterParams {
  url: string | undefined;
  modelName?: string | undefined;
  handler?: string | undefined;
  runtime?: string | undefined;
  synchronous: boolean;
  loadedAtStartup?: boolean;
}

/** The answer to a register or scale call: HTTP status and TorchServe's `status` text. */
export interface StatusAnswer {
  status: number;
  message: string;
}

/** All models of a server. */
export class ModelManager {
  private readonly models = new Map<string, { defaultVersion: string; versions: Map<string, ModelVersion> }>();
  private gpuCursor = 0;
  private workerCounter = 9000;

  constructor(private readonly options: ModelManagerOptions) {}

  /** The version asked for, or the default one. */
  get(name: string, version?: string): ModelVersion {
    const model = this.models.get(name);
    if (!model) throw modelNotFound(`Model not found: ${name}`);
    const wanted = version ?? model.defaultVersion;
    const found = model.versions.get(wanted);
    if (!found) throw versionNotFound(name, wanted);
    return found;
  }

  /** Every version of a model. */
  versionsOf(name: string): ModelVersion[] {
    const model = this.models.get(name);
    if (!model) throw modelNotFound(`Model not found: ${name}`);
    return [...model.versions.values()];
  }

  /** The default version of each model, sorted by name. */
  defaults(): ModelVersion[] {
    return [...this.models.keys()].sort().map((name) => this.get(name));
  }

  /** Registers an archive and starts its workers. */
  async register(request: RegisterRequest): Promise<StatusAnswer> {
    if (request.url === undefined || request.url === "") throw badRequest("Parameter url is required.");
    const path = await resolveModelUrl(request.url, { modelStore: this.options.modelStore, allowedUrls: this.options.allowedUrls });
    const archive = await openModelArchive(path, { modelName: request.modelName, handler: request.handler, runtime: request.runtime, workDir: this.options.workDir });
    const { modelName: name, modelVersion: version } = archive;
    if (this.models.get(name)?.versions.has(version)) {
      archive.clean();
      throw conflict(`Model ${name} version ${version} is already registered.`);
    }
    let settings: ModelSettings;
    try {
      settings = resolveModelSettings(this.options.defaults, archive.yamlConfig, request);
    } catch (error) {
      archive.clean();
      throw error;
    }
    const pool = this.createPool(archive, settings);
    const entry: ModelVersion = { name, version, url: request.url, archive, settings, pool, loadedAtStartup: request.loadedAtStartup ?? false };
    const model = this.models.get(name) ?? { defaultVersion: version, versions: new Map<string, ModelVersion>() };
    model.versions.set(version, entry);
    this.models.set(name, model);
    if (settings.minWorkers === 0) return { status: 200, message: `Model "${name}" Version: ${version} registered with 0 initial workers. Use the scale workers API to add workers for the model.` };
    const starting = pool.scale(settings.minWorkers);
    if (!request.synchronous) {
      void starting.then((failure) => {
        if (failure !== undefined) this.drop(entry, `its worker failed to load: ${failure}`);
      });
      return { status: 202, message: "Processing worker updates..." };
    }
    const failure = await starting;
    if (failure !== undefined) {
      this.drop(entry, "its worker failed to load");
      throw invalidModel(`Failed to start workers for model ${name} version ${version}: ${failure}`);
    }
    return { status: 200, message: `Model "${name}" Version: ${version} registered with ${settings.minWorkers} initial workers` };
  }

  /** Changes the number of workers of a version. */
  async scale(name: string, version: string | undefined, minWorkers: number, maxWorkers: number, synchronous: boolean): Promise<StatusAnswer> {
    if (maxWorkers < minWorkers) throw badRequest("max_worker cannot be less than min_worker.");
    const entry = this.get(name, version);
    entry.settings.minWorkers = minWorkers;
    entry.settings.maxWorkers = maxWorkers;
    const scaling = entry.pool.scale(minWorkers);
    if (!synchronous) {
      void scaling;
      return { status: 202, message: "Processing worker updates..." };
    }
    const failure = await scaling;
    if (failure !== undefined) throw new ServingError(500, "InternalServerException", `Failed to start workers for model ${name} version: ${entry.version}: ${failure}`);
    return { status: 200, message: `Workers scaled to ${minWorkers} for model: ${name}${version ? `, version: ${version}` : ""}` };
  }

  /** Removes a version (the default one when none is named). */
  unregister(name: string, version: string | undefined): void {
    const model = this.models.get(name);
    if (!model) throw modelNotFound(`Model not found: ${name}`);
    const target = version ?? model.defaultVersion;
    const entry = model.versions.get(target);
    if (!entry) throw versionNotFound(name, target);
    if (target === model.defaultVersion && model.versions.size > 1) {
      throw new ServingError(403, "InvalidModelVersionException", `Cannot remove the default version ${target} of model ${name} while other versions exist; set another default first.`);
    }
    this.drop(entry, "it was unregistered");
  }

  /** Makes `version` the default of `name`. */
  setDefault(name: string, version: string): string {
    const model = this.models.get(name);
    if (!model) throw modelNotFound(`Model not found: ${name}`);
    if (!model.versions.has(version)) throw versionNotFound(name, version);
    model.defaultVersion = version;
    return `Default version successfully updated for model "${name}" to "${version}"`;
  }

  /** True when each model's default version has at least its minimum of ready workers. */
  healthy(): boolean {
    return this.defaults().every((v) => v.pool.readyCount >= v.settings.minWorkers);
  }

  /** Stops every worker. */
  close(): void {
    for (const model of this.models.values()) for (const entry of model.versions.values()) this.drop(entry, "the server stopped");
  }

  /** The workers of a version for describe. */
  workersOf(entry: ModelVersion): WorkerView[] {
    return entry.pool.describeWorkers();
  }

  private drop(entry: ModelVersion, why: string): void {
    const model = this.models.get(entry.name);
    if (!model || model.versions.get(entry.version) !== entry) return;
    model.versions.delete(entry.version);
    if (model.versions.size === 0) this.models.delete(entry.name);
    else if (model.defaultVersion === entry.version) model.defaultVersion = [...model.versions.keys()][0]!;
    entry.pool.close();
    entry.archive.clean();
    this.options.log(`model ${entry.name} version ${entry.version} removed: ${why}`);
  }

  private createPool(archive: ModelArchive, settings: ModelSettings): WorkerPool {
    const { options } = this;
    return new WorkerPool({
      load: { modelName: archive.modelName, modelDir: archive.modelDir, handler: archive.handler, batchSize: settings.batchSize, gpuId: -1, manifest: archive.manifest, modelYamlConfig: archive.yamlConfig },
      batchSize: settings.batchSize,
      maxBatchDelayMs: settings.maxBatchDelayMs,
      responseTimeoutMs: settings.responseTimeoutS * 1000,
      startupTimeoutMs: settings.startupTimeoutS * 1000,
      jobQueueSize: options.jobQueueSize,
      python: options.python,
      log: options.log,
      nextGpu: () => this.nextGpu(settings),
      nextWorkerId: () => String(this.workerCounter++),
      ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
    });
  }

  /** GPU ids round-robin over number_of_gpu, or over the model's deviceIds; −1 for CPU. */
  private nextGpu(settings: ModelSettings): number {
    if (settings.deviceType === "cpu") return -1;
    if (settings.deviceIds.length > 0) return settings.deviceIds[this.gpuCursor++ % settings.deviceIds.length]!;
    if (this.options.numberOfGpu <= 0) return -1;
    return this.gpuCursor++ % this.options.numberOfGpu;
  }
}
