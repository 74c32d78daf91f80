/**
 * The `local` backend (also `pvc`: any folder mounted on this machine). Every path is checked by
 * storage-path.ts, then resolved under the volume's real root; an existing entry or its nearest
 * existing ancestor is followed through symbolic links and must stay inside that root, so a link
 * leading out of the volume is refused (outside_volume) and nothing outside is read or written.
 * A file read is checked once more on its open descriptor (open-inside.ts), so a name swapped for
 * a link between the check and the open is refused too.
 * Writes go to a hidden temporary file beside the target and are linked or renamed into place
 * only when complete. Listings of large folders come from a sorted name index (folder-index.ts).
 */
import { randomBytes } from "node:crypto";
import { close, createReadStream, createWriteStream } from "node:fs";
import { promisify } from "node:util";
import { cp, link, lstat, mkdir, readdir, realpath, rename, rm, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { contentTypeOf } from "../content-type.js";
import type { ByteRange, ListOptions, ListPage, ReadResult, SearchOptions, Storage, StorageEntry, WriteOptions } from "../storage.js";
import { fromFsError, StorageError } from "../storage-error.js";
import { baseName, insideRoot, joinPath, movePair, normalizePath, parentPath, pathSegments, showPath as show } from "../storage-path.js";
import { checkRange, listLimit, searchLimit } from "../storage-limits.js";
import { compareUtf8 } from "../name-order.js";
import { FolderIndex, isUploadTemp, UPLOAD_TEMP_PREFIX } from "./folder-index.js";
import { openInside } from "./open-inside.js";

const closeFd = promisify(close);

/** Options of {@link LocalStorage}. */
export interface LocalStorageOptions {
  /** The volume's folder; it must exist. */
  root: string;
}

/** A volume that is a folder on this machine. */
export class LocalStorage implements Storage {
  readonly kind = "local";
  private readonly root: string;
  private realRoot: string | undefined;
  private readonly index = new FolderIndex();

  constructor(options: LocalStorageOptions) {
    this.root = resolve(options.root);
  }

  async list(path: string, options: ListOptions = {}): Promise<ListPage> {
    const canonical = normalizePath(path);
    const real = await this.resolveExisting(canonical);
    const info = await stat(real).catch((error: unknown) => { throw fromFsError(error, canonical); });
    if (!info.isDirectory()) throw new StorageError("wrong_type", `${show(canonical)} is a file, not a folder`, canonical);
    const limit = listLimit(options.limit);
    const { names, next } = await this.index.page(real, limit, options.cursor, (name) => this.childIsFolder(real, name));
    const entries: StorageEntry[] = [];
    for (const name of names) {
      const entry = await this.entryOf(joinPath(canonical, name), join(real, name)).catch(() => undefined);
      if (entry !== undefined) entries.push(entry);
    }
    return { entries, next };
  }

  async stat(path: string): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    const real = await this.resolveExisting(canonical);
    return this.entryOf(canonical, real);
  }

  async read(path: string, range?: ByteRange): Promise<ReadResult> {
    const canonical = normalizePath(path);
    const real = await this.resolveExisting(canonical);
    await this.opening(real);
    // Checked again on the open descriptor: the name may have become a link since it was resolved.
    // A numeric descriptor: streams over a FileHandle read through promises, measurably slower.
    const { fd, info } = await openInside(real, await this.volumeRoot(), canonical).catch((error: unknown) => { throw fromFsError(error, canonical); });
    try {
      if (info.isDirectory()) throw new StorageError("wrong_type", `${show(canonical)} is a folder, not a file`, canonical);
      const { start, end } = checkRange(range, info.size, canonical);
      let stream: Readable;
      if (end < start) {
        await closeFd(fd);
        stream = Readable.from([]);
      } else stream = createReadStream("", { fd, start, end, autoClose: true, highWaterMark: 256 * 1024 });
      return { stream, size: info.size, start, end, contentType: contentTypeOf(baseName(canonical)), modified: info.mtimeMs };
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      throw fromFsError(error, canonical);
    }
  }

  /** Called between resolving a file and opening it for reading; nothing by default (tests swap entries here). */
  protected opening(_real: string): Promise<void> {
    return Promise.resolve();
  }

  async write(path: string, body: Readable | AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    if (canonical === "") throw new StorageError("wrong_type", "the volume's root is a folder, not a file", canonical);
    const folder = await this.ensureFolder(parentPath(canonical));
    const name = baseName(canonical);
    if (isUploadTemp(name)) throw new StorageError("invalid_path", `names starting with ${UPLOAD_TEMP_PREFIX} are reserved for uploads in progress`, canonical);
    const target = join(folder, name);
    const existing = await lstat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw new StorageError("wrong_type", `${show(canonical)} is a folder, not a file`, canonical);
    if (existing !== undefined && options.overwrite !== true) throw new StorageError("exists", `${show(canonical)} already exists`, canonical);
    const temp = join(folder, `${UPLOAD_TEMP_PREFIX}${randomBytes(12).toString("hex")}`);
    try {
      await pipeline(body, createWriteStream(temp, { flags: "wx", mode: 0o644, flush: true }));
      if (options.overwrite === true) await rename(temp, target);
      else {
        await link(temp, target);
        await unlink(temp);
      }
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw fromFsError(error, canonical);
    } finally {
      this.index.forget(folder);
    }
    return this.entryOf(canonical, target);
  }

  async mkdir(path: string): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    const real = await this.ensureFolder(canonical);
    return this.entryOf(canonical, real);
  }

  async move(from: string, to: string): Promise<StorageEntry> {
    const [source, target] = await this.pairFor(from, to, "move");
    try {
      await rename(source.real, target.real);
    } catch (error) {
      throw fromFsError(error, target.path);
    } finally {
      this.index.forget(source.folder);
      this.index.forget(target.folder);
    }
    return this.entryOf(target.path, target.real);
  }

  async copy(from: string, to: string): Promise<StorageEntry> {
    const [source, target] = await this.pairFor(from, to, "copy");
    try {
      await cp(source.real, target.real, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
    } catch (error) {
      await rm(target.real, { recursive: true, force: true }).catch(() => undefined);
      throw fromFsError(error, target.path);
    } finally {
      this.index.forget(target.folder);
    }
    return this.entryOf(target.path, target.real);
  }

  async delete(path: string): Promise<void> {
    const canonical = normalizePath(path);
    if (canonical === "") throw new StorageError("invalid_path", "the volume's root cannot be deleted; delete what is in it", canonical);
    const folder = await this.resolveExisting(parentPath(canonical));
    const target = join(folder, baseName(canonical));
    try {
      await lstat(target);
      await rm(target, { recursive: true });
    } catch (error) {
      throw fromFsError(error, canonical);
    } finally {
      this.index.forget(folder);
    }
  }

  async search(path: string, query: string, options: SearchOptions = {}): Promise<StorageEntry[]> {
    const limit = searchLimit(options.limit);
    const needle = query.toLowerCase();
    const found: StorageEntry[] = [];
    for await (const entry of this.entries(normalizePath(path), true)) {
      if (entry.name.toLowerCase().includes(needle)) found.push(entry);
      if (found.length >= limit) break;
    }
    return found;
  }

  async *walk(path: string): AsyncIterable<StorageEntry> {
    for await (const entry of this.entries(normalizePath(path), false)) yield entry;
  }

  /**
   * Files under `start`, depth first in listing order, plus empty folders (or every folder when
   * `allFolders`). Links are followed only when they stay inside; linked folders are not entered.
   */
  private async *entries(start: string, allFolders: boolean): AsyncGenerator<StorageEntry> {
    const root = await this.resolveExisting(start);
    const top = await this.entryOf(start, root);
    if (top.type === "file") {
      yield top;
      return;
    }
    const stack: Array<{ path: string; real: string }> = [{ path: start, real: root }];
    while (stack.length > 0) {
      const folder = stack.pop();
      if (folder === undefined) break;
      const children = (await readdir(folder.real, { withFileTypes: true }))
        .filter((dirent) => !isUploadTemp(dirent.name))
        .sort((a, b) => compareUtf8(a.name, b.name));
      const subfolders: Array<{ path: string; real: string }> = [];
      if (children.length === 0 && !allFolders && folder.path !== start) yield await this.entryOf(folder.path, folder.real);
      for (const dirent of children) {
        const childPath = joinPath(folder.path, dirent.name);
        const childReal = join(folder.real, dirent.name);
        if (dirent.isDirectory()) {
          subfolders.push({ path: childPath, real: childReal });
          if (allFolders) yield await this.entryOf(childPath, childReal);
        } else {
          const entry = await this.entryOf(childPath, childReal).catch(() => undefined);
          if (entry !== undefined && (entry.type === "file" || allFolders)) yield entry;
        }
      }
      stack.push(...subfolders.reverse());
    }
  }

  /** The entry at resolved `real`; a link leading outside the volume is outside_volume. */
  private async entryOf(path: string, real: string): Promise<StorageEntry> {
    try {
      let info = await lstat(real);
      if (info.isSymbolicLink()) {
        await this.assertInside(await realpath(real), path);
        info = await stat(real);
      }
      const folder = info.isDirectory();
      return { name: baseName(path), path, type: folder ? "folder" : "file", size: folder ? 0 : info.size, modified: info.mtimeMs };
    } catch (error) {
      throw fromFsError(error, path);
    }
  }

  private async childIsFolder(real: string, name: string): Promise<boolean> {
    const info = await stat(join(real, name)).catch(() => undefined);
    return info?.isDirectory() === true;
  }

  /** Source and target of a move or copy: the source exists, the target does not and is not inside it. */
  private async pairFor(from: string, to: string, verb: string): Promise<[Located, Located]> {
    const [sourcePath, targetPath] = movePair(from, to, verb);
    const sourceFolder = await this.resolveExisting(parentPath(sourcePath));
    const sourceReal = join(sourceFolder, baseName(sourcePath));
    await lstat(sourceReal).catch((error: unknown) => { throw fromFsError(error, sourcePath); });
    if (verb === "copy") await this.resolveExisting(sourcePath);
    const targetFolder = await this.ensureFolder(parentPath(targetPath));
    const targetReal = join(targetFolder, baseName(targetPath));
    if ((await lstat(targetReal).catch(() => undefined)) !== undefined)
      throw new StorageError("exists", `${show(targetPath)} already exists`, targetPath);
    return [
      { path: sourcePath, real: sourceReal, folder: sourceFolder },
      { path: targetPath, real: targetReal, folder: targetFolder },
    ];
  }

  /** The real path of an existing entry, refused when it leads outside the volume. */
  private async resolveExisting(canonical: string): Promise<string> {
    const root = await this.volumeRoot();
    let real: string;
    try {
      real = await realpath(join(root, ...pathSegments(canonical)));
    } catch (error) {
      throw fromFsError(error, canonical);
    }
    await this.assertInside(real, canonical);
    return real;
  }

  /** Makes folder `canonical` (and its parents) inside the volume; returns its real path. */
  private async ensureFolder(canonical: string): Promise<string> {
    const root = await this.volumeRoot();
    const segments = pathSegments(canonical);
    let real = root;
    for (let i = 0; i < segments.length; i += 1) {
      const next = join(real, segments[i] ?? "");
      const partPath = segments.slice(0, i + 1).join("/");
      try {
        await mkdir(next);
        this.index.forget(real);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw fromFsError(error, partPath);
      }
      const resolved = await realpath(next).catch((error: unknown) => { throw fromFsError(error, partPath); });
      await this.assertInside(resolved, partPath);
      if (!(await stat(resolved)).isDirectory())
        throw new StorageError("exists", `${show(partPath)} is a file, so no folder can be made there`, partPath);
      real = resolved;
    }
    return real;
  }

  private async assertInside(real: string, path: string): Promise<void> {
    if (!insideRoot(await this.volumeRoot(), real))
      throw new StorageError("outside_volume", `${show(path)} leads outside the volume through a symbolic link; it is not served`, path);
  }

  private async volumeRoot(): Promise<string> {
    if (this.realRoot === undefined) {
      try {
        this.realRoot = await realpath(this.root);
      } catch (error) {
        throw new StorageError("backend", `the volume's folder ${this.root} cannot be opened: ${(error as Error).message}`, "", { cause: error });
      }
    }
    return this.realRoot;
  }
}

interface Located {
  path: string;
  real: string;
  /** Real path of the folder that holds it. */
  folder: string;
}
