/** Loads one pipeline file of either format into a LoadedPipeline (spec, version, source). */
import { readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { PipelineFileError } from "./errors.js";
import { loadTsPipeline, type TsPipelineLoader } from "./load-ts.js";
import { loadYamlPipeline } from "./load-yaml.js";
import { missingSparkFiles } from "./spark-task.js";
import type { LoadedPipeline } from "./model.js";
import type { SpecCheck } from "./validate.js";
import { versionHash } from "./version-hash.js";

/** File extensions that hold pipelines. */
export const PIPELINE_EXTENSIONS = [".yaml", ".yml", ".ts", ".mts"];

/**
 * Reads, parses and validates one pipeline file; throws PipelineFileError. TypeScript files are
 * imported by `tsLoader` (in a worker thread, with its time limit), or by a loader of their own.
 */
export async function loadPipelineFile(path: string, check?: SpecCheck, tsLoader?: TsPipelineLoader): Promise<LoadedPipeline> {
  const file = resolve(path);
  let source: string;
  try {
    source = await readFile(file, "utf8");
  } catch (error) {
    throw new PipelineFileError(file, [{ path: [], message: `cannot read the file: ${(error as Error).message}` }], { cause: error });
  }
  const extension = extname(file);
  // A spark application that is not there is a load error (with its line), not a failed run.
  const checkFiles: SpecCheck = (spec) => [...missingSparkFiles(spec, dirname(file)), ...(check?.(spec) ?? [])];
  const spec = extension === ".ts" || extension === ".mts" ? await loadTsPipeline(file, checkFiles, tsLoader) : loadYamlPipeline(file, source, checkFiles);
  return { spec, version: versionHash(spec), file, baseDir: dirname(file), source };
}
