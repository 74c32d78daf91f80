/**
 * The `webhdfs` backend: a folder of an HDFS cluster reached over WebHDFS (plain HTTP to the
 * namenode, data to and from the datanodes it names; see webhdfs-client.ts for which of those are
 * followed). Paths are checked by storage-path.ts and then put under the volume's root, so no path
 * leaves it. Listings read the folder through LISTSTATUS_BATCH pages and sort it into S3 key order
 * (HDFS lists in signed-byte order, which differs for non-ASCII names and for a folder "a" beside
 * "a-b"); the sorted folder is kept for the pages after the first while the folder's modification
 * time and child count stay the same. Uploads go to a hidden temporary file beside the target and
 * are renamed over it when complete, so an interrupted write leaves nothing under the final name.
 * HDFS has no server-side copy: copies stream through Capstan. Symbolic links are not listed or
 * followed.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { contentTypeOf } from "../content-type.js";
import { compareUtf8, sortKey } from "../name-order.js";
import type { ByteRange, ListOptions, ListPage, ReadResult, SearchOptions, Storage, StorageEntry, WriteOptions } from "../storage.js";
import { StorageError } from "../storage-error.js";
import { checkRange, listLimit, searchLimit } from "../storage-limits.js";
import { baseName, joinPath, movePair, normalizePath, parentPath, showPath as show } from "../storage-path.js";
import { WebHdfsClient, type HdfsFileStatus, type WebHdfsClientOptions } from "./webhdfs-client.js";

/** Where a WebHDFS volume lives: the client's options and the folder that is the volume's root. */
export interface WebHdfsStorageOptions extends WebHdfsClientOptions {
  /** The volume's root folder in HDFS, absolute ("/data/team-a"; default "/"). */
  root?: string;
}

/** Most entries of one folder a listing reads (they are sorted in memory). */
export const MAX_FOLDER_ENTRIES = 1_000_000;
/** Names of uploads in progress; never listed. */
const UPLOAD_PREFIX = ".capstan-upload-";
const CACHED_FOLDERS = 8;

interface SortedFolder {
  modificationTime: number;
  childrenNum: number | undefined;
  entries: Array<{ key: string; entry: StorageEntry }>;
}

export class WebHdfsStorage implements Storage {
  readonly kind = "webhdfs";
  readonly client: WebHdfsClient;
  private readonly root: string;
  private readonly folders = new Map<string, SortedFolder>();

  constructor(options: WebHdfsStorageOptions) {
    this.client = new WebHdfsClient(options);
    const root = options.root ?? "/";
    if (!root.startsWith("/")) throw new StorageError("invalid_argument", `the root of a webhdfs volume must be an absolute HDFS path such as /data/team; got ${JSON.stringify(root)}`);
    const inner = normalizePath(root.slice(1));
    this.root = inner === "" ? "" : `/${inner}`;
  }

  async list(path: string, options: ListOptions = {}): Promise<ListPage> {
    const canonical = normalizePath(path);
    const limit = listLimit(options.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const folder = await this.sortedFolder(canonical, after !== undefined);
    let low = 0;
    if (after !== undefined) {
      let high = folder.entries.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (compareUtf8(folder.entries[middle]?.key ?? "", after) <= 0) low = middle + 1;
        else high = middle;
      }
    }
    const page = folder.entries.slice(low, low + limit);
    const last = page.at(-1);
    const more = low + limit < folder.entries.length;
    return { entries: page.map((item) => item.entry), next: more && last !== undefined ? Buffer.from(last.key, "utf8").toString("base64url") : undefined };
  }

  async stat(path: string): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    if (canonical === "") return folderEntry("");
    return entryOf(canonical, await this.status(canonical));
  }

  async read(path: string, range?: ByteRange): Promise<ReadResult> {
    const canonical = normalizePath(path);
    const entry = await this.stat(canonical);
    if (entry.type === "folder") throw new StorageError("wrong_type", `${show(canonical)} is a folder, not a file`, canonical);
    const { start, end } = checkRange(range, entry.size, canonical);
    const result = { size: entry.size, start, end, contentType: contentTypeOf(entry.name), modified: entry.modified };
    if (end < start) return { ...result, stream: Readable.from([]) };
    const stream = await this.client.open(this.abs(canonical), start, end - start + 1, canonical);
    return { ...result, stream };
  }

  async write(path: string, body: Readable | AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    if (canonical === "") throw new StorageError("wrong_type", "the volume's root is a folder, not a file", canonical);
    const existing = await this.statOrUndefined(canonical);
    if (existing?.type === "folder") throw new StorageError("wrong_type", `${show(canonical)} is a folder, not a file`, canonical);
    if (existing !== undefined && options.overwrite !== true) throw new StorageError("exists", `${show(canonical)} already exists`, canonical);
    const temporary = joinPath(parentPath(canonical), `${UPLOAD_PREFIX}${randomUUID()}`);
    try {
      await this.client.create(this.abs(temporary), body, canonical);
      await this.client.json("PUT", this.abs(temporary), "RENAME", { destination: this.abs(canonical), renameoptions: options.overwrite === true ? "OVERWRITE" : "NONE" }, canonical);
    } catch (error) {
      await this.client.json("DELETE", this.abs(temporary), "DELETE", { recursive: false }, temporary).catch(() => undefined);
      throw error;
    }
    return this.stat(canonical);
  }

  async mkdir(path: string): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    if (canonical === "") return folderEntry("");
    const existing = await this.statOrUndefined(canonical);
    if (existing?.type === "file") throw new StorageError("exists", `${show(canonical)} is a file, so no folder can be made there`, canonical);
    if (existing === undefined) await this.client.json("PUT", this.abs(canonical), "MKDIRS", {}, canonical);
    return folderEntry(canonical);
  }

  async move(from: string, to: string): Promise<StorageEntry> {
    const [source, target] = await this.pairFor(from, to, "move");
    await this.mkdir(parentPath(target));
    // renameoptions makes it rename2: a target that appeared meanwhile is refused, never moved into.
    await this.client.json("PUT", this.abs(source.path), "RENAME", { destination: this.abs(target), renameoptions: "NONE" }, target);
    return this.stat(target);
  }

  async copy(from: string, to: string): Promise<StorageEntry> {
    const [source, target] = await this.pairFor(from, to, "copy");
    if (source.type === "file") {
      await this.copyFile(source.path, target);
      return this.stat(target);
    }
    await this.mkdir(target);
    for await (const entry of this.tree(source.path)) {
      const destination = joinPath(target, entry.path.slice(source.path.length + 1));
      if (entry.type === "folder") await this.mkdir(destination);
      else await this.copyFile(entry.path, destination);
    }
    return this.stat(target);
  }

  async delete(path: string): Promise<void> {
    const canonical = normalizePath(path);
    if (canonical === "") throw new StorageError("invalid_path", "the volume's root cannot be deleted; delete what is in it", canonical);
    await this.stat(canonical);
    await this.client.json("DELETE", this.abs(canonical), "DELETE", { recursive: true }, canonical);
  }

  async search(path: string, query: string, options: SearchOptions = {}): Promise<StorageEntry[]> {
    const canonical = normalizePath(path);
    const start = await this.stat(canonical);
    const limit = searchLimit(options.limit);
    const needle = query.toLowerCase();
    if (start.type === "file") return start.name.toLowerCase().includes(needle) ? [start] : [];
    const found: StorageEntry[] = [];
    for await (const entry of this.tree(canonical)) {
      if (entry.name.toLowerCase().includes(needle)) found.push(entry);
      if (found.length >= limit) break;
    }
    return found;
  }

  async *walk(path: string): AsyncIterable<StorageEntry> {
    const canonical = normalizePath(path);
    const start = await this.stat(canonical);
    if (start.type === "file") {
      yield start;
      return;
    }
    yield* this.files(canonical);
  }

  /** The absolute HDFS path of a canonical volume path. */
  private abs(canonical: string): string {
    if (canonical === "") return this.root === "" ? "/" : this.root;
    return `${this.root}/${canonical}`;
  }

  private async status(canonical: string): Promise<HdfsFileStatus> {
    const answer = await this.client.json<{ FileStatus?: HdfsFileStatus }>("GET", this.abs(canonical), "GETFILESTATUS", {}, canonical);
    const status = answer.FileStatus;
    if (status === undefined) throw new StorageError("backend", `the namenode answered GETFILESTATUS of ${show(canonical)} without a FileStatus`, canonical);
    if (status.type === "SYMLINK") throw new StorageError("wrong_type", `${show(canonical)} is a symbolic link, which a webhdfs volume does not follow`, canonical);
    return status;
  }

  private async statOrUndefined(canonical: string): Promise<StorageEntry | undefined> {
    try {
      return await this.stat(canonical);
    } catch (error) {
      if (error instanceof StorageError && error.storageCode === "not_found") return undefined;
      throw error;
    }
  }

  /**
   * The folder's entries in S3 key order. A continuation (`reuse`) takes the kept copy when the
   * folder's modification time and child count are unchanged; a first page always reads afresh.
   */
  private async sortedFolder(canonical: string, reuse: boolean): Promise<SortedFolder> {
    const status = canonical === "" ? await this.rootStatus() : await this.status(canonical);
    if (status.type !== "DIRECTORY") throw new StorageError("wrong_type", `${show(canonical)} is a file, not a folder`, canonical);
    const kept = this.folders.get(canonical);
    if (reuse && kept !== undefined && kept.modificationTime === status.modificationTime && kept.childrenNum === status.childrenNum) return kept;
    const entries: SortedFolder["entries"] = [];
    for await (const child of this.children(canonical)) {
      if (child.type === "SYMLINK" || child.pathSuffix.startsWith(UPLOAD_PREFIX)) continue;
      const entry = entryOf(joinPath(canonical, child.pathSuffix), child);
      entries.push({ key: sortKey(entry.name, entry.type === "folder"), entry });
      if (entries.length > MAX_FOLDER_ENTRIES)
        throw new StorageError("backend", `${show(canonical)} holds more than ${MAX_FOLDER_ENTRIES} entries, more than a webhdfs volume lists`, canonical);
    }
    entries.sort((a, b) => compareUtf8(a.key, b.key));
    const folder = { modificationTime: status.modificationTime, childrenNum: status.childrenNum, entries };
    this.folders.delete(canonical);
    this.folders.set(canonical, folder);
    for (const oldest of this.folders.keys()) {
      if (this.folders.size <= CACHED_FOLDERS) break;
      this.folders.delete(oldest);
    }
    return folder;
  }

  private async rootStatus(): Promise<HdfsFileStatus> {
    const answer = await this.client.json<{ FileStatus?: HdfsFileStatus }>("GET", this.abs(""), "GETFILESTATUS", {}, "");
    if (answer.FileStatus === undefined) throw new StorageError("backend", "the namenode answered GETFILESTATUS of the volume's root without a FileStatus", "");
    return answer.FileStatus;
  }

  /**
   * A folder's children in HDFS's order, one LISTSTATUS_BATCH page at a time; a namenode older
   * than Hadoop 2.8, which does not know that operation, is asked once with LISTSTATUS.
   */
  private async *children(canonical: string): AsyncGenerator<HdfsFileStatus> {
    let startAfter: string | undefined;
    for (;;) {
      let answer: { DirectoryListing?: { partialListing?: { FileStatuses?: { FileStatus?: HdfsFileStatus[] } }; remainingEntries?: number } };
      try {
        answer = await this.client.json("GET", this.abs(canonical), "LISTSTATUS_BATCH", { startAfter }, canonical);
      } catch (error) {
        if (startAfter !== undefined || !(error instanceof StorageError) || !/IllegalArgumentException.*LISTSTATUS_BATCH/s.test(error.message)) throw error;
        const whole = await this.client.json<{ FileStatuses?: { FileStatus?: HdfsFileStatus[] } }>("GET", this.abs(canonical), "LISTSTATUS", {}, canonical);
        yield* whole.FileStatuses?.FileStatus ?? [];
        return;
      }
      const listing = answer.DirectoryListing;
      const batch = listing?.partialListing?.FileStatuses?.FileStatus ?? [];
      for (const child of batch) yield child;
      const last = batch.at(-1);
      if ((listing?.remainingEntries ?? 0) <= 0 || last === undefined) return;
      startAfter = last.pathSuffix;
    }
  }

  /** Every entry under a folder, files and folders, depth first in listing order. */
  private async *tree(canonical: string): AsyncGenerator<StorageEntry> {
    for (const { entry } of (await this.sortedFolder(canonical, false)).entries) {
      yield entry;
      if (entry.type === "folder") yield* this.tree(entry.path);
    }
  }

  /** The files under a folder, and its empty folders, for walk(). */
  private async *files(canonical: string): AsyncGenerator<StorageEntry> {
    for (const { entry } of (await this.sortedFolder(canonical, false)).entries) {
      if (entry.type === "file") {
        yield entry;
        continue;
      }
      let empty = true;
      for await (const inner of this.files(entry.path)) {
        empty = false;
        yield inner;
      }
      if (empty) yield entry;
    }
  }

  private async pairFor(from: string, to: string, verb: string): Promise<[StorageEntry, string]> {
    const [sourcePath, targetPath] = movePair(from, to, verb);
    const source = await this.stat(sourcePath);
    if ((await this.statOrUndefined(targetPath)) !== undefined) throw new StorageError("exists", `${show(targetPath)} already exists`, targetPath);
    return [source, targetPath];
  }

  private async copyFile(from: string, to: string): Promise<void> {
    const source = await this.read(from);
    try {
      await this.write(to, source.stream);
    } finally {
      source.stream.destroy();
    }
  }
}

function entryOf(path: string, status: HdfsFileStatus): StorageEntry {
  if (status.type === "DIRECTORY") return { name: baseName(path), path, type: "folder", size: 0, modified: status.modificationTime || undefined };
  return { name: baseName(path), path, type: "file", size: status.length, modified: status.modificationTime };
}

function folderEntry(path: string): StorageEntry {
  return { name: baseName(path), path, type: "folder", size: 0, modified: undefined };
}

function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new StorageError("invalid_argument", "the cursor is not one a listing returned");
  return Buffer.from(cursor, "base64url").toString("utf8");
}
