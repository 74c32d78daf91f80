/**
 * Access to pipeline versions for the scheduler: the current version of each loaded pipeline, and
 * any pinned version by content hash (from memory, else from the store), with its task graph.
 */
import { Dag, type LoadedPipeline, type PipelineSpec } from "../pipelines/index.js";
import type { Store } from "../store/index.js";
import { referencedTasks } from "./attempt-context.js";

/** A pipeline version ready for scheduling. */
export interface PipelineVersion {
  spec: PipelineSpec;
  version: string;
  baseDir: string;
  dag: Dag;
  /** Per task, the upstream tasks whose outputs its templates read. */
  outputReads: Map<string, string[]>;
}

/** Where the scheduler finds the pipelines currently loaded. */
export interface PipelineSource {
  get(id: string): LoadedPipeline | undefined;
  list(): LoadedPipeline[];
}

/** A run names a pipeline version the store does not hold. */
export class UnknownVersionError extends Error {
  override readonly name = "UnknownVersionError";
}

export class PipelineVersions {
  readonly #cache = new Map<string, PipelineVersion>();

  constructor(
    private readonly store: Store,
    readonly source: PipelineSource,
  ) {}

  /** The version a run pinned. */
  async get(pipelineId: string, version: string): Promise<PipelineVersion> {
    const key = `${pipelineId}@${version}`;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const current = this.source.get(pipelineId);
    if (current && current.version === version) return this.#remember(key, current.spec, version, current.baseDir);
    const row = await this.store.pipelines.getVersion(pipelineId, version);
    if (!row) throw new UnknownVersionError(`pipeline ${pipelineId} has no stored version ${version}`);
    return this.#remember(key, JSON.parse(row.spec) as PipelineSpec, version, row.baseDir);
  }

  /** The currently loaded version of a pipeline, or undefined when no file defines it. */
  current(pipelineId: string): PipelineVersion | undefined {
    const loaded = this.source.get(pipelineId);
    if (!loaded) return undefined;
    return this.#remember(`${pipelineId}@${loaded.version}`, loaded.spec, loaded.version, loaded.baseDir);
  }

  #remember(key: string, spec: PipelineSpec, version: string, baseDir: string): PipelineVersion {
    const existing = this.#cache.get(key);
    if (existing) return existing;
    const dag = new Dag(Object.fromEntries(Object.entries(spec.tasks).map(([id, t]) => [id, t.dependsOn])));
    const outputReads = new Map(Object.values(spec.tasks).map((t) => [t.id, referencedTasks(t)]));
    const entry = { spec, version, baseDir, dag, outputReads };
    this.#cache.set(key, entry);
    return entry;
  }
}
