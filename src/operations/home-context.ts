/**
 * The operations' context on a home opened in this process, for the CLI when no scheduler runs
 * against the home: reads go to the store (and pipelines loaded here, when an operation needs
 * them); the first change opens the platform here, taking the home's scheduler lock, and from then
 * on everything goes through it. Its scheduler schedules only the runs this process started.
 */
import pino from "pino";
import type { CapstanConfig } from "../config/index.js";
import { PipelineRegistry, type LoadedPipeline } from "../pipelines/index.js";
// The platform (with every executor, Kubernetes' client among them) is loaded only when opened here:
// commands that only read the home start faster.
import type { Platform } from "../wiring/platform.js";
import { acquireSchedulerLock } from "../wiring/scheduler-lock.js";
import { openVolumes } from "../wiring/volumes.js";
import type { VolumeRegistry } from "../storage/index.js";
import { loadSecretKey, SecretService } from "../secrets/index.js";
import { Store } from "../store/index.js";
import type { LoadErrorRecord, OperationsContext, SchedulerCommands } from "./context.js";

const NO_PIPELINES = { get: (): LoadedPipeline | undefined => undefined, list: (): LoadedPipeline[] => [] };

export class HomeContext implements OperationsContext {
  /** Runs the scheduler of this process may schedule (those it triggered or was asked to wait for). */
  readonly onlyRuns = new Set<string>();
  #readStore: Store | undefined;
  #registry: PipelineRegistry | undefined;
  #secrets: { store: Store; service: SecretService } | undefined;
  #platform: Platform | undefined;
  #volumes: VolumeRegistry | undefined;
  #lock: { release(): void } | undefined;

  constructor(readonly config: CapstanConfig) {}

  get home(): string {
    return this.config.home;
  }

  /** Opens the store, and with `pipelines` loads the pipeline files, unless the platform is open. */
  async ready(options: { pipelines?: boolean } = {}): Promise<this> {
    if (this.#platform) return this;
    this.#readStore ??= await Store.open({ url: this.config.databaseUrl });
    if (options.pipelines && !this.#registry) {
      const registry = new PipelineRegistry({ paths: this.config.pipelines, loadTimeoutMs: this.config.pipelineLoadTimeoutMs });
      await registry.load();
      this.#registry = registry;
    }
    return this;
  }

  get store(): Store {
    const store = this.#platform?.store ?? this.#readStore;
    if (!store) throw new Error("the home's store is not open: call ready() first");
    return store;
  }

  /** The pipelines loaded here (none until an operation that needs them called ready({ pipelines: true })). */
  get pipelines(): OperationsContext["pipelines"] {
    return this.#platform?.registry ?? this.#registry ?? NO_PIPELINES;
  }

  loadErrors(): Promise<LoadErrorRecord[]> {
    const registry = this.#platform?.registry ?? this.#registry;
    return Promise.resolve((registry?.errors() ?? []).map((e) => ({ file: e.file, message: e.message, issues: e.issues, pipelineId: null })));
  }

  get secrets(): SecretService {
    if (this.#platform) return this.#platform.secrets;
    const store = this.store;
    if (this.#secrets?.store !== store) this.#secrets = { store, service: new SecretService(store, loadSecretKey(this.config.home)) };
    return this.#secrets.service;
  }

  /** The configuration's volumes (the platform's once it is open here). */
  get volumes(): VolumeRegistry {
    if (this.#platform) return this.#platform.volumes;
    this.#volumes ??= openVolumes(this.config, this.secrets);
    return this.#volumes;
  }

  get modelStores(): Readonly<Record<string, string>> {
    return this.config.modelStores;
  }

  async scheduler(): Promise<SchedulerCommands> {
    return (await this.platform()).scheduler;
  }

  /** Opens the platform here (taking the home's scheduler lock on SQLite); the store opened for reading is closed. */
  async platform(): Promise<Platform> {
    if (this.#platform) return this.#platform;
    if (!/^postgres/.test(this.config.databaseUrl)) this.#lock = acquireSchedulerLock(this.config.home, "run");
    if (this.#readStore) {
      await this.#readStore.close();
      this.#readStore = undefined;
    }
    this.#registry?.close();
    this.#registry = undefined;
    const logger = pino({ level: process.env.CAPSTAN_LOG_LEVEL ?? "warn" }, pino.destination(2));
    const { Platform } = await import("../wiring/platform.js");
    this.#platform = await Platform.open({ config: this.config, onlyRuns: this.onlyRuns, logger });
    return this.#platform;
  }

  async close(): Promise<void> {
    this.#registry?.close();
    await this.#platform?.close();
    await this.#readStore?.close();
    this.#lock?.release();
  }
}
