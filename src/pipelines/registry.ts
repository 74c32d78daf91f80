/**
 * The set of pipelines loaded from the pipeline folders. A file that fails validation keeps the
 * previous good version of its pipeline loaded and is reported with its error; the folders can be
 * watched so edits load without a restart.
 */
import { watch, type FSWatcher } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { extname, join, relative, resolve } from "node:path";
import { issueLocation, PipelineFileError } from "./errors.js";
import { loadPipelineFile, PIPELINE_EXTENSIONS } from "./load-file.js";
import { TsPipelineLoader } from "./load-ts.js";
import { locateInYaml } from "./load-yaml.js";
import type { LoadedPipeline } from "./model.js";
import type { SpecCheck } from "./validate.js";

/** The result of one load: what changed, for logging and for the store. */
export interface RegistryChange {
  loaded: LoadedPipeline[];
  removed: string[];
  errors: PipelineFileError[];
}

export interface PipelineRegistryOptions {
  /** Folders (or single files) to load pipelines from. */
  paths: readonly string[];
  /** Checks against the platform's configuration (clusters, executors), run on every file. */
  check?: SpecCheck;
  /** The time limit of importing one TypeScript file (default 10 s). */
  loadTimeoutMs?: number;
  /**
   * Folders reached through a link that is moved to a new target (a git checkout's `current`):
   * resolved at each load, so a pipeline's file and folder are those of the commit it came from
   * and stay put when the link moves on.
   */
  linkedPaths?: readonly string[];
}

/** What one load collects before it replaces the registry's maps. */
interface LoadState {
  change: RegistryChange;
  /** Pipeline id → the file that defines it. */
  seen: Map<string, string>;
  nextErrors: Map<string, PipelineFileError>;
  nextIds: Map<string, string>;
  /** File → its text, for positions of duplicate ids. */
  sources: Map<string, string>;
}

/** Pipelines by id, with the errors of files that failed to load. */
export class PipelineRegistry {
  readonly #paths: string[];
  readonly #linkedPaths: string[];
  readonly #check: SpecCheck | undefined;
  readonly #loadTimeoutMs: number | undefined;
  #pipelines = new Map<string, LoadedPipeline>();
  #errors = new Map<string, PipelineFileError>();
  #idsByFile = new Map<string, string>();
  #watchers: FSWatcher[] = [];

  constructor(options: PipelineRegistryOptions) {
    this.#paths = options.paths.map((p) => resolve(p));
    this.#linkedPaths = (options.linkedPaths ?? []).map((p) => resolve(p));
    this.#check = options.check;
    this.#loadTimeoutMs = options.loadTimeoutMs;
  }

  get(id: string): LoadedPipeline | undefined {
    return this.#pipelines.get(id);
  }

  list(): LoadedPipeline[] {
    return [...this.#pipelines.values()].sort((a, b) => a.spec.id.localeCompare(b.spec.id));
  }

  /** Files that failed to load, with every issue found. */
  errors(): PipelineFileError[] {
    return [...this.#errors.values()].sort((a, b) => a.file.localeCompare(b.file));
  }

  /** (Re)loads every pipeline file; good versions of failing files stay loaded. */
  async load(): Promise<RegistryChange> {
    const files = await this.#findFiles();
    const change: RegistryChange = { loaded: [], removed: [], errors: [] };
    const seen = new Map<string, string>();
    const nextErrors = new Map<string, PipelineFileError>();
    const nextIds = new Map<string, string>();
    const sources = new Map<string, string>();
    // One worker imports this load's TypeScript files; it is stopped when the load ends.
    const tsLoader = new TsPipelineLoader(this.#loadTimeoutMs === undefined ? {} : { timeoutMs: this.#loadTimeoutMs });
    try {
      await this.#loadFiles(files, tsLoader, { change, seen, nextErrors, nextIds, sources });
    } finally {
      await tsLoader.close();
    }
    for (const id of [...this.#pipelines.keys()]) {
      if (!seen.has(id)) {
        this.#pipelines.delete(id);
        change.removed.push(id);
      }
    }
    this.#errors = nextErrors;
    this.#idsByFile = nextIds;
    return change;
  }

  async #loadFiles(files: { file: string; key: string }[], tsLoader: TsPipelineLoader, state: LoadState): Promise<void> {
    const { change, seen, nextErrors, nextIds, sources } = state;
    for (const { file, key } of files) {
      try {
        const loaded = await loadPipelineFile(file, this.#check, tsLoader);
        const other = seen.get(loaded.spec.id);
        if (other) {
          const first = sources.get(other);
          const where = first === undefined ? other : issueLocation(other, locateInYaml(other, first, { path: ["id"], message: "" }));
          throw new PipelineFileError(file, [locateInYaml(file, loaded.source, { path: ["id"], message: `duplicate pipeline id ${JSON.stringify(loaded.spec.id)}: ${where} defines it too` })]);
        }
        seen.set(loaded.spec.id, file);
        sources.set(file, loaded.source);
        nextIds.set(key, loaded.spec.id);
        const previous = this.#pipelines.get(loaded.spec.id);
        if (!previous || previous.version !== loaded.version || previous.file !== loaded.file) change.loaded.push(loaded);
        this.#pipelines.set(loaded.spec.id, loaded);
      } catch (error) {
        const fileError = error instanceof PipelineFileError ? error : new PipelineFileError(file, [{ path: [], message: String(error) }], { cause: error });
        nextErrors.set(file, fileError);
        change.errors.push(fileError);
        // Keep serving the last good version of whatever this file defined before.
        const previousId = this.#idsByFile.get(key);
        if (previousId && !seen.has(previousId)) {
          seen.set(previousId, file);
          nextIds.set(key, previousId);
        }
      }
    }
  }

  /** Reloads when a pipeline file changes; `onChange` gets each reload's outcome. */
  watch(onChange: (change: RegistryChange) => void, onError: (error: unknown) => void): void {
    let timer: NodeJS.Timeout | undefined;
    const reload = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.load().then(onChange, onError);
      }, 150);
    };
    for (const path of this.#paths) {
      try {
        const watcher = watch(path, { recursive: false }, reload);
        watcher.on("error", onError);
        this.#watchers.push(watcher);
      } catch (error) {
        onError(error);
      }
    }
  }

  close(): void {
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }

  /** The pipeline files, each with the name it keeps across commits (its path through the link, for linked folders). */
  async #findFiles(): Promise<{ file: string; key: string }[]> {
    const found: { file: string; key: string }[] = [];
    for (const path of this.#paths) for (const file of await this.#filesIn(path)) found.push({ file, key: file });
    for (const link of this.#linkedPaths) {
      const target = await realpath(link).catch(() => undefined);
      if (target === undefined) continue;
      for (const file of await this.#filesIn(target)) found.push({ file, key: join(link, relative(target, file)) });
    }
    return found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  async #filesIn(path: string): Promise<string[]> {
    let info;
    try {
      info = await stat(path);
    } catch {
      return [];
    }
    if (info.isFile()) return [path];
    const files: string[] = [];
    for (const entry of await readdir(path, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      if (entry.isFile() && PIPELINE_EXTENSIONS.includes(extname(entry.name)) && !entry.name.endsWith(".d.ts") && !entry.name.includes(".test.")) {
        files.push(join(path, entry.name));
      } else if (entry.isDirectory()) {
        // A folder per pipeline: pipelines/NAME/pipeline.yaml beside its scripts.
        for (const name of ["pipeline.yaml", "pipeline.yml", "pipeline.ts"]) {
          const candidate = join(path, entry.name, name);
          if (await stat(candidate).then((s) => s.isFile(), () => false)) files.push(candidate);
        }
      }
    }
    return files;
  }
}
