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
  /** Relative to the home. */
  artifactPath: string;
  /** The manifest's handler. */
  handler: string;
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

/** Checks `source` is a model archive or folder and copies it into `home`; throws InvalidRequestError naming `path`. */
export async function copyModelArtifact(source: string, home: string, name: string): Promise<CopiedModel> {
  if (!existsSync(source)) throw new InvalidRequestError(`path: ${source} does not exist`);
  const isDir = statSync(source).isDirectory();
  if (!isDir && !statSync(source).isFile()) throw new InvalidRequestError(`path: ${source} is neither a file nor a folder`);
  const scratch = join(home, "tmp");
  let handler: string;
  try {
    const archive = await openModelArchive(source, { workDir: scratch });
    handler = archive.handler;
    archive.clean();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidRequestError(`path: ${source} is not a model archive (.mar) or model folder: ${message}`);
  }
  const modelsDir = join(home, "models", name);
  mkdirSync(modelsDir, { recursive: true, mode: 0o700 });
  if (isDir) {
    const files = folderFiles(source);
    const { sha256, sizeBytes } = hashFolder(source, files);
    const target = join(modelsDir, sha256);
    if (!existsSync(target)) {
      const staging = mkdtempSync(join(modelsDir, ".copy-"));
      for (const file of files) cpSync(join(source, file), join(staging, file), { recursive: false, errorOnExist: true, force: false });
      renameSync(staging, target);
    }
    return { kind: "dir", sha256, sizeBytes, artifactPath: relative(home, target), handler };
  }
  const data = readFileSync(source);
  const sha256 = createHash("sha256").update(data).digest("hex");
  const target = join(modelsDir, `${sha256}.mar`);
  if (!existsSync(target)) {
    const staging = join(modelsDir, `.copy-${process.pid}-${Date.now()}.mar`);
    cpSync(source, staging);
    renameSync(staging, target);
  }
  return { kind: "mar", sha256, sizeBytes: data.length, artifactPath: relative(home, target), handler };
}

