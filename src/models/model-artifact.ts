/**
 * A model version's files: a .mar file or a model folder, checked with serving's archive reader
 * (MAR-INF/MANIFEST.json must name a handler), hashed (sha256 of the file, or of the folder's sorted
 * relative paths and contents) and copied into the home under `models/NAME/SHA256[.mar]`, so a
 * version's files never change after registration and the same content is stored once.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { openModelArchive } from "../serving/archive/index.js";
import { InvalidRequestError } from "../scheduler/index.js";

/** What registering copied. */
export interface CopiedModel {
  kind: "mar" | "dir";
  sha256: string;
  sizeBytes: number;
  /** Relative to the home, or `VOLUME:PATH` on a team's volume. */
  artifactPath: string;
  /** The manifest's handler. */
  handler: string;
}

/** A model checked and hashed, not yet copied. */
export interface InspectedModel extends Omit<CopiedModel, "artifactPath"> {
  /** The file or folder it was read from. */
  source: string;
  /** A folder's files, sorted, relative (empty for a .mar). */
  files: string[];
}

/** Files of a folder, sorted, relative; refuses links (a model's files are its own). */
function folderFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = join(dir, entry.name);
      if (entry.isSymbolicLink()) throw new InvalidRequestError(`path: ${relative(root, full)} in the model folder is a symbolic link; copy the file itself into the folder`);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push(relative(root, full));
    }
  };
  walk(root);
  return files;
}

function hashFolder(root: string, files: readonly string[]): { sha256: string; sizeBytes: number } {
  const hash = createHash("sha256");
  let sizeBytes = 0;
  for (const file of files) {
    const data = readFileSync(join(root, file));
    sizeBytes += data.length;
    hash.update(`${file}\0${data.length}\0`);
    hash.update(data);
  }
  return { sha256: hash.digest("hex"), sizeBytes };
}

/** Checks `source` is a model archive or folder and hashes it; throws InvalidRequestError naming `path`. `home` holds the scratch folder. */
export async function inspectModel(source: string, home: string): Promise<InspectedModel> {
  if (!existsSync(source)) throw new InvalidRequestError(`path: ${source} does not exist`);
  const isDir = statSync(source).isDirectory();
  if (!isDir && !statSync(source).isFile()) throw new InvalidRequestError(`path: ${source} is neither a file nor a folder`);
  let handler: string;
  try {
    const archive = await openModelArchive(source, { workDir: join(home, "tmp") });
    handler = archive.handler;
    archive.clean();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidRequestError(`path: ${source} is not a model archive (.mar) or model folder: ${message}`);
  }
  if (isDir) {
    const files = folderFiles(source);
    return { kind: "dir", source, files, handler, ...hashFolder(source, files) };
  }
  const data = readFileSync(source);
  return { kind: "mar", source, files: [], handler, sha256: createHash("sha256").update(data).digest("hex"), sizeBytes: data.length };
}

/** Copies an inspected model into `home` under models/NAME/ (once per content); answers the path relative to the home. */
export function copyIntoHome(model: InspectedModel, home: string, name: string): string {
  const modelsDir = join(home, "models", name);
  mkdirSync(modelsDir, { recursive: true, mode: 0o700 });
  if (model.kind === "dir") {
    const target = join(modelsDir, model.sha256);
    if (!existsSync(target)) {
      const staging = mkdtempSync(join(modelsDir, ".copy-"));
      for (const file of model.files) cpSync(join(model.source, file), join(staging, file), { recursive: false, errorOnExist: true, force: false });
      renameSync(staging, target);
    }
    return relative(home, target);
  }
  const target = join(modelsDir, `${model.sha256}.mar`);
  if (!existsSync(target)) {
    const staging = join(modelsDir, `.copy-${process.pid}-${Date.now()}.mar`);
    cpSync(model.source, staging);
    renameSync(staging, target);
  }
  return relative(home, target);
}

/** Checks `source` is a model archive or folder and copies it into `home`; throws InvalidRequestError naming `path`. */
export async function copyModelArtifact(source: string, home: string, name: string): Promise<CopiedModel> {
  const model = await inspectModel(source, home);
  const { source: _source, files: _files, ...copied } = model;
  return { ...copied, artifactPath: copyIntoHome(model, home, name) };
}
