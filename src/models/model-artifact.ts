/**
 * A model version's files: a .mar file or a model folder, checked with serving's archive reader
 * (MAR-INF/MANIFEST.json must name a handler), hashed (sha256 of the file, or of the folder's sorted
 * relative paths and contents) and copied into the home under `models/NAME/SHA256[.mar]`, so a
 * version's files never change after registration and the same content is stored once. The files
 * are first copied into a private folder of the home by a copier that never follows a link (each
 * entry opened with O_NOFOLLOW and checked to be where it was expected), and everything is checked
 * and read there: a task still running in the same run cannot swap a file for a link between the
 * check and the copy. Files are read in chunks, so files over 2 GiB are registered too.
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, renameSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { openModelArchive } from "../serving/archive/index.js";
import { InvalidRequestError } from "../scheduler/index.js";
import { copyWithoutLinks, ModelCopyRefusal } from "./model-copy.js";

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

/** A model checked and hashed in a private copy, not yet stored. */
export interface InspectedModel extends Omit<CopiedModel, "artifactPath"> {
  /** The private copy (a file or folder in the home's scratch folder) that was checked. */
  source: string;
  /** A folder's files, sorted, relative (empty for a .mar). */
  files: string[];
  /** Removes what is left of the private copy. */
  readonly discard: () => void;
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

/** Feeds a file to `hash` in chunks (files over 2 GiB cannot be read whole); answers its size. */
function hashFile(path: string, hash: Hash, header?: (size: number) => string): number {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (header) hash.update(header(size));
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    let total = 0;
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      total += read;
    }
    if (total !== size) throw new InvalidRequestError(`path: ${path} changed size while it was hashed`);
    return total;
  } finally {
    closeSync(fd);
  }
}

function hashFolder(root: string, files: readonly string[]): { sha256: string; sizeBytes: number } {
  const hash = createHash("sha256");
  let sizeBytes = 0;
  for (const file of files) sizeBytes += hashFile(join(root, file), hash, (size) => `${file}\0${size}\0`);
  return { sha256: hash.digest("hex"), sizeBytes };
}

/**
 * Copies `source` into a private folder (links and special files refused, never followed), then checks the
 * copy is a model archive or folder and hashes it; throws InvalidRequestError naming `path`.
 */
export async function inspectModel(source: string, home: string): Promise<InspectedModel> {
  if (!existsSync(source)) throw new InvalidRequestError(`path: ${source} does not exist`);
  const scratch = join(home, "tmp");
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  const privateDir = mkdtempSync(join(scratch, "model-copy-"));
  const discard = (): void => rmSync(privateDir, { recursive: true, force: true });
  try {
    const copy = join(privateDir, "model");
    try {
      copyWithoutLinks(source, copy);
    } catch (error) {
      if (error instanceof ModelCopyRefusal) {
        if (error.reason === "link" && error.relativePath === "") throw new InvalidRequestError(`path: ${source} became a symbolic link while it was read; register the file itself`);
        if (error.reason === "link") throw new InvalidRequestError(`path: ${error.relativePath} in the model folder is a symbolic link; copy the file itself into the folder`);
        if (error.relativePath === "") throw new InvalidRequestError(`path: ${source} is neither a file nor a folder`);
      }
      // A fifo, a socket or a device in a folder, or a file that vanished while it was read.
      throw new InvalidRequestError(`path: ${source} could not be copied (only files and folders can be registered): ${error instanceof Error ? error.message : String(error)}`);
    }
    const top = lstatSync(copy);
    if (top.isSymbolicLink()) throw new InvalidRequestError(`path: ${source} became a symbolic link while it was read; register the file itself`);
    const isDir = top.isDirectory();
    if (!isDir && !top.isFile()) throw new InvalidRequestError(`path: ${source} is neither a file nor a folder`);
    // A folder's links are refused before anything inside it is read.
    const files = isDir ? folderFiles(copy) : [];
    let handler: string;
    try {
      const archive = await openModelArchive(copy, { workDir: scratch });
      handler = archive.handler;
      archive.clean();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new InvalidRequestError(`path: ${source} is not a model archive (.mar) or model folder: ${message}`);
    }
    if (isDir) return { kind: "dir", source: copy, files, handler, discard, ...hashFolder(copy, files) };
    const hash = createHash("sha256");
    const sizeBytes = hashFile(copy, hash);
    return { kind: "mar", source: copy, files: [], handler, discard, sha256: hash.digest("hex"), sizeBytes };
  } catch (error) {
    discard();
    throw error;
  }
}

/** Moves an inspected model's private copy into `home` under models/NAME/ (once per content); answers the path relative to the home. */
export function copyIntoHome(model: InspectedModel, home: string, name: string): string {
  const modelsDir = join(home, "models", name);
  mkdirSync(modelsDir, { recursive: true, mode: 0o700 });
  const target = join(modelsDir, model.kind === "dir" ? model.sha256 : `${model.sha256}.mar`);
  try {
    // The private copy is in the same home, so it is renamed into place whole.
    if (!existsSync(target)) renameSync(model.source, target);
  } catch (error) {
    // Another registration of the same content won the rename.
    if (!existsSync(target)) throw error;
  }
  return relative(home, target);
}

/** Checks `source` is a model archive or folder and copies it into `home`; throws InvalidRequestError naming `path`. */
export async function copyModelArtifact(source: string, home: string, name: string): Promise<CopiedModel> {
  const model = await inspectModel(source, home);
  try {
    const { source: _source, files: _files, discard: _discard, ...copied } = model;
    return { ...copied, artifactPath: copyIntoHome(model, home, name) };
  } finally {
    model.discard();
  }
}
