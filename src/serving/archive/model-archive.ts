/**
 * A model archive opened for serving: a .mar (zip) or a .tar.gz (`--archive-format tgz`, told apart
 * by their first bytes) unpacked into a private folder, or a folder laid out like one, with its
 * MAR-INF/MANIFEST.json checked and its `configFile` YAML read.
 * Layout written by torch-model-archiver: the user's files at the root and
 * `MAR-INF/MANIFEST.json` = {createdOn, runtime, model: {modelName, serializedFile?, handler,
 * modelFile?, modelVersion, extensions?, requirementsFile?, configFile?}, archiverVersion}.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { invalidModel } from "../errors.js";
import { TarFormatError, unpackTarGz } from "./tar-reader.js";
import { unpackZip, ZipFormatError } from "./zip-reader.js";

/** The manifest's `model` object. */
export interface ManifestModel {
  modelName?: string;
  modelVersion?: string;
  handler?: string;
  serializedFile?: string;
  modelFile?: string;
  configFile?: string;
  requirementsFile?: string;
  extensions?: string;
  [key: string]: unknown;
}

/** MAR-INF/MANIFEST.json. */
export interface Manifest {
  createdOn?: string;
  runtime?: string;
  archiverVersion?: string;
  model: ManifestModel;
  [key: string]: unknown;
}

/** An archive ready for workers to load. */
export interface ModelArchive {
  modelName: string;
  modelVersion: string;
  handler: string;
  runtime: string;
  manifest: Manifest;
  /** the folder workers load from (unpacked archive or the archive folder itself) */
  modelDir: string;
  /** the archive's `configFile` YAML; empty when it has none */
  yamlConfig: Record<string, unknown>;
  /** removes the unpacked copy (not a folder archive the user owns) */
  clean(): void;
}

/** Overrides from the register call (TorchServe's model_name, handler, runtime parameters). */
export interface OpenArchiveOptions {
  modelName?: string | undefined;
  handler?: string | undefined;
  runtime?: string | undefined;
  /** where .mar files are unpacked; a private folder per archive is made inside */
  workDir: string;
}

/** Opens `path` (a .mar/zip file or an archive folder) and checks its manifest. */
export async function openModelArchive(path: string, options: OpenArchiveOptions): Promise<ModelArchive> {
  let modelDir: string;
  let unpacked: string | undefined;
  if (statSync(path).isDirectory()) {
    modelDir = path;
  } else {
    mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
    unpacked = mkdtempSync(join(options.workDir, "model-"));
    modelDir = unpacked;
    try {
      if (isGzip(path)) {
        await unpackTarGz(path, unpacked);
        modelDir = archiveRoot(unpacked);
      } else {
        await unpackZip(path, unpacked);
      }
    } catch (error) {
      rmSync(unpacked, { recursive: true, force: true });
      if (error instanceof ZipFormatError || error instanceof TarFormatError) throw invalidModel(`${basename(path)} is not a usable model archive: ${error.message}`);
      throw error;
    }
  }
  const clean = (): void => {
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  };
  try {
    const manifest = readManifest(modelDir, options);
    const model = manifest.model;
    if (options.modelName) model.modelName = options.modelName;
    if (options.handler) model.handler = options.handler;
    if (options.runtime) manifest.runtime = options.runtime;
    if (!model.modelName) throw invalidModel("the manifest names no model (model.modelName) and the request gave no model_name");
    if (!/^[A-Za-z0-9][A-Za-z0-9_\-.]*$/.test(model.modelName)) throw invalidModel(`model name ${JSON.stringify(model.modelName)} may hold only letters, digits, _, - and . and must start with a letter or digit`);
    if (!model.modelVersion) throw invalidModel(`the manifest of ${model.modelName} has no model.modelVersion`);
    if (!/^[A-Za-z0-9][A-Za-z0-9_\-.]*$/.test(model.modelVersion)) throw invalidModel(`model version ${JSON.stringify(model.modelVersion)} may hold only letters, digits, _, - and .`);
    if (!manifest.runtime) throw invalidModel(`the manifest of ${model.modelName} has no runtime`);
    if (manifest.runtime !== "python" && manifest.runtime !== "python3") throw invalidModel(`runtime ${manifest.runtime} is not supported; Capstan runs python handlers`);
    if (!model.handler) throw invalidModel(`the manifest of ${model.modelName} names no handler (model.handler) and the request gave none`);
    return {
      modelName: model.modelName,
      modelVersion: model.modelVersion,
      handler: model.handler,
      runtime: manifest.runtime,
      manifest,
      modelDir,
      yamlConfig: readYamlConfig(modelDir, model.configFile),
      clean,
    };
  } catch (error) {
    clean();
    throw error;
  }
}

/** Whether the file starts with gzip's magic bytes (a .tar.gz; a .mar starts with "PK"). */
function isGzip(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * The folder of an unpacked .tar.gz that holds MAR-INF: torch-model-archiver's tgz puts the files in
 * one folder named after the model, which TorchServe serves as the archive's root.
 */
function archiveRoot(unpacked: string): string {
  if (existsSync(join(unpacked, "MAR-INF"))) return unpacked;
  const entries = readdirSync(unpacked, { withFileTypes: true });
  const only = entries[0];
  if (entries.length === 1 && only?.isDirectory() && existsSync(join(unpacked, only.name, "MAR-INF"))) return join(unpacked, only.name);
  return unpacked;
}

function basename(path: string): string {
  return path.split("/").pop() ?? path;
}

function readManifest(modelDir: string, options: OpenArchiveOptions): Manifest {
  const file = join(modelDir, "MAR-INF", "MANIFEST.json");
  if (!existsSync(file)) {
    if (options.modelName && options.handler) return { runtime: options.runtime ?? "python", model: { modelName: options.modelName, modelVersion: "1.0", handler: options.handler } };
    throw invalidModel("the archive has no MAR-INF/MANIFEST.json (make it with torch-model-archiver, or pass model_name and handler)");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw invalidModel(`MAR-INF/MANIFEST.json is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw invalidModel("MAR-INF/MANIFEST.json must hold a JSON object");
  const manifest = parsed as Partial<Manifest>;
  if (!manifest.model || typeof manifest.model !== "object" || Array.isArray(manifest.model)) throw invalidModel("MAR-INF/MANIFEST.json has no model object");
  for (const key of ["modelName", "modelVersion", "handler", "configFile"] as const) {
    const value = manifest.model[key];
    if (value !== undefined && typeof value !== "string") throw invalidModel(`manifest field model.${key} must be a string`);
  }
  return manifest as Manifest;
}

function readYamlConfig(modelDir: string, configFile: string | undefined): Record<string, unknown> {
  if (!configFile) return {};
  if (configFile.split("/").includes("..") || configFile.startsWith("/")) throw invalidModel(`configFile ${configFile} must name a file inside the archive`);
  const file = join(modelDir, configFile);
  if (!existsSync(file)) throw invalidModel(`the manifest's configFile ${configFile} is not in the archive`);
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, "utf8"));
  } catch (error) {
    throw invalidModel(`configFile ${configFile} is not valid YAML: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw invalidModel(`configFile ${configFile} must hold a YAML mapping`);
  return parsed as Record<string, unknown>;
}
