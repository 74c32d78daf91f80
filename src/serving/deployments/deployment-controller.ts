/**
 * Makes deployments so: for each deployment in the store it resolves the alias it follows (a move
 * made by any path is seen), rolls its replicas one by one towards the wanted version and count,
 * and reports what it sees back to the record (state, message, replicas). Local deployments run as
 * `capstan serve` processes of this process (local-replicas.ts), adopted by the next one when this
 * one dies without stopping them; Kubernetes ones are applied as a
 * Deployment + Service through a KubeDeploymentTarget. A deployment marked for deletion is torn
 * down, then its record is removed. Runs in `capstan up` only.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { modelArchiveStream, writeModelArchive } from "../../models/index.js";
import type { Store, StoredDeployment } from "../../store/index.js";
import { LocalReplicaSet } from "./local-replicas.js";

/** Where the controller says what went wrong outside any deployment's record. */
export interface ControllerLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** What the controller needs of a Kubernetes side (kube-target.ts). */
export interface KubeDeploymentTarget {
  /** Applies the deployment's objects for `version`; answers its state and replicas as the API server holds them. */
  apply(deployment: StoredDeployment, version: number): Promise<{ state: "rolling" | "ready" | "failed"; message: string | null; replicas: unknown[] }>;
  remove(deployment: StoredDeployment): Promise<void>;
}

export interface DeploymentControllerOptions {
  store: Store;
  home: string;
  /** argv that runs `capstan` (capstanCommand()). */
  command: readonly string[];
  /** The replicas' environment (the platform's own credentials left out). */
  env: NodeJS.ProcessEnv;
  log: ControllerLog;
  kube?: KubeDeploymentTarget | undefined;
  /** Between passes (default 1 s). */
  intervalMs?: number;
  startTimeoutMs?: number;
  /**
   * A stored version's files as one archive, wherever the registry keeps them (the home or a team's
   * volume: ModelStorage.archive); default: relative to the home.
   */
  archiveOf?: (artifactPath: string, kind: "mar" | "dir") => Promise<Readable>;
}

export class DeploymentController {
  readonly #options: DeploymentControllerOptions;
  readonly #local = new Map<string, LocalReplicaSet>();
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  #stopped = false;

  constructor(options: DeploymentControllerOptions) {
    this.#options = options;
  }

  /** Starts passes every intervalMs (never two at once). */
  start(): void {
    const loop = (): void => {
      if (this.#stopped) return;
      this.#pass = this.pass()
        .catch((error: unknown) => this.#options.log.warn({ err: error }, "a deployments pass failed; the next one retries"))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.#options.intervalMs ?? 1_000);
        });
    };
    loop();
  }

  /**
   * Stops passes and every local replica (Kubernetes objects stay: they do not depend on this
   * process). Only a crash leaves replicas running, and the next `capstan up` adopts them.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pass;
    await Promise.all([...this.#local.values()].map((set) => set.stopAll()));
    this.#local.clear();
  }

  /** One pass over every deployment. */
  async pass(): Promise<void> {
    const rows = await this.#options.store.deployments.list();
    const names = new Set(rows.map((r) => r.name));
    for (const [name, set] of this.#local) {
      if (!names.has(name)) {
        await set.stopAll();
        this.#local.delete(name);
      }
    }
    for (const row of rows) {
      if (this.#stopped) return;
      try {
        await this.#reconcile(row);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await this.#options.store.deployments.report(row.name, "failed", message, row.replicaStatus, Date.now());
      }
    }
  }

  async #reconcile(row: StoredDeployment): Promise<void> {
    const { store } = this.#options;
    if (row.state === "deleting") {
      if (row.target === "local") {
        // Replicas an earlier `capstan up` left running are adopted first, so they stop too.
        await (this.#local.get(row.name) ?? (await this.#localSet(row))).stopAll();
        this.#local.delete(row.name);
      } else if (this.#options.kube) {
        await this.#options.kube.remove(row);
      } else {
        return;
      }
      await store.deployments.delete(row.name);
      this.#options.log.info({ deployment: row.name }, "deployment deleted");
      return;
    }
    // An alias moved by any path (API, CLI, a pipeline task) is followed here too.
    let version = Number(row.version);
    if (!/^\d+$/.test(row.ref)) {
      const alias = (await store.models.aliases(row.model)).find((a) => a.alias === row.ref);
      if (alias && Number(alias.version) !== version && (await store.deployments.moveTo(row.name, Number(alias.version), Date.now()))) version = Number(alias.version);
    }
    if (row.target === "kubernetes") {
      if (!this.#options.kube) {
        await store.deployments.report(row.name, "failed", "this platform has no Kubernetes clusters configured (clusters: in capstan.yaml)", null, Date.now());
        return;
      }
      const seen = await this.#options.kube.apply(row, version);
      await store.deployments.report(row.name, seen.state, seen.message, JSON.stringify(seen.replicas), Date.now());
      return;
    }
    await this.#reconcileLocal(row, version);
  }

  /** The replica set of a local deployment, made (and its earlier replicas adopted) on first need. */
  async #localSet(row: StoredDeployment): Promise<LocalReplicaSet> {
    const { store, home } = this.#options;
    const existing = this.#local.get(row.name);
    if (existing) return existing;
    // The key is made at creation; a deployment recorded before keys were kept gets one now.
    const inferenceKey = Number(row.tokenAuth) === 0 ? undefined : (row.inferenceKey ?? (await store.deployments.inferenceKey(row.name, randomBytes(24).toString("base64url"))));
    const set = new LocalReplicaSet({
      name: row.name,
      inferenceKey,
      dir: join(home, "deployments", row.name),
      command: this.#options.command,
      env: this.#options.env,
      ...(this.#options.startTimeoutMs !== undefined ? { startTimeoutMs: this.#options.startTimeoutMs } : {}),
    });
    this.#local.set(row.name, set);
    // Replicas an earlier `capstan up` left running (it crashed) are taken back, not started again.
    const adopted = await set.adopt();
    if (adopted.length > 0) this.#options.log.info({ deployment: row.name, pids: adopted }, "adopted running replicas");
    return set;
  }

  async #reconcileLocal(row: StoredDeployment, version: number): Promise<void> {
    const { store, home } = this.#options;
    const set = await this.#localSet(row);
    const archive = `${row.model}-v${version}.mar`;
    if (!existsSync(join(set.store, archive))) {
      const stored = await store.models.version(row.model, version);
      if (!stored) {
        await store.deployments.report(row.name, "failed", `model ${row.model} has no version ${version}`, JSON.stringify(set.views()), Date.now());
        return;
      }
      const kind = stored.kind === "dir" ? "dir" : "mar";
      const source = this.#options.archiveOf ? await this.#options.archiveOf(stored.artifactPath, kind) : modelArchiveStream(join(home, stored.artifactPath), kind);
      await writeModelArchive(source, join(set.store, archive));
    }
    const replicas = Number(row.replicas);
    set.step(row.model, version, archive, replicas);
    const settled = set.settled(version, replicas);
    const failure = set.failure;
    const state = settled ? "ready" : failure ? "failed" : "rolling";
    await store.deployments.report(row.name, state, settled ? null : (failure ?? `rolling to version ${version}`), JSON.stringify(set.views()), Date.now());
  }
}
