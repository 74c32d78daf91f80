/**
 * A volume made of a tree that exists only as a view: folders whose children a resolver names
 * (sandboxes of a user, pipelines and runs of a team), other storages mounted at some of its
 * paths (a sandbox's home folder, a run's artifacts folder) and single files read whole (a run's
 * output notebook with secrets masked). Paths are checked by storage-path.ts first; the view's
 * own folders are never written, and moves and copies stay within one mounted storage.
 */
import { Readable } from "node:stream";
import { contentTypeOf } from "../content-type.js";
import { compareUtf8, sortKey } from "../name-order.js";
import type { ByteRange, ListOptions, ListPage, ReadResult, SearchOptions, Storage, StorageEntry, WriteOptions } from "../storage.js";
import { StorageError } from "../storage-error.js";
import { checkRange, listLimit, searchLimit } from "../storage-limits.js";
import { baseName, joinPath, normalizePath, pathSegments, showPath as show } from "../storage-path.js";

/** A child of a view folder, as its folder lists it. */
export interface TreeChild {
  name: string;
  type: "file" | "folder";
  size: number;
  modified: number | undefined;
}

/** What a path of the view is. */
export type TreeNode =
  /** A folder of the view itself: read-only, its children named by the resolver. */
  | { kind: "folder"; children(): Promise<TreeChild[]> }
  /** A path inside a mounted storage: `prefix` is the view's path of the mount's root, `inner` the path within it. */
  | { kind: "mount"; storage: Storage; prefix: string; inner: string }
  /** A file of the view, read whole (small files only: notebooks). */
  | { kind: "file"; modified: number | undefined; content(): Promise<Buffer> };

/** Finds what a (checked, canonical) path of the view is; undefined: nothing there. */
export type TreeResolver = (segments: readonly string[]) => Promise<TreeNode | undefined>;

/** Options of {@link VirtualTreeStorage}. */
export interface VirtualTreeOptions {
  /** Says why the view's own folders cannot be written (such as "the root lists your sandboxes: write inside one of them"). */
  fixedFolderMessage: string;
  /**
   * Searches and walks (zips) start this many segments deep or deeper; above, they would visit
   * every mount (every run's artifacts) and are refused with `message` (what to ask instead).
   */
  walkFrom?: { depth: number; message: string };
}

/** A Storage over a resolver's tree. */
export class VirtualTreeStorage implements Storage {
  readonly kind = "view";

  constructor(
    private readonly resolve: TreeResolver,
    private readonly options: VirtualTreeOptions,
  ) {}

  private async node(canonical: string): Promise<TreeNode> {
    const node = await this.resolve(pathSegments(canonical));
    if (node === undefined) throw new StorageError("not_found", `nothing at ${show(canonical)}`, canonical);
    return node;
  }

  async list(path: string, options: ListOptions = {}): Promise<ListPage> {
    const canonical = normalizePath(path);
    const node = await this.node(canonical);
    if (node.kind === "mount") {
      const page = await node.storage.list(node.inner, options);
      return { entries: page.entries.map((entry) => outer(node.prefix, entry)), next: page.next };
    }
    if (node.kind === "file") throw new StorageError("wrong_type", `${show(canonical)} is a file, not a folder`, canonical);
    const limit = listLimit(options.limit);
    const after = options.cursor === undefined ? undefined : cursorKey(options.cursor);
    const children = (await node.children())
      .map((child) => ({ child, key: sortKey(child.name, child.type === "folder") }))
      .sort((a, b) => compareUtf8(a.key, b.key))
      .filter(({ key }) => after === undefined || compareUtf8(key, after) > 0);
    const page = children.slice(0, limit);
    const last = page[page.length - 1];
    return {
      entries: page.map(({ child }) => ({ ...child, path: joinPath(canonical, child.name) })),
      next: children.length > limit && last !== undefined ? Buffer.from(last.key, "utf8").toString("base64url") : undefined,
    };
  }

  async stat(path: string): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    const node = await this.node(canonical);
    if (node.kind === "mount") {
      const entry = outer(node.prefix, await node.storage.stat(node.inner));
      return node.inner === "" ? { ...entry, name: baseName(canonical), path: canonical } : entry;
    }
    if (node.kind === "file") {
      const content = await node.content();
      return { name: baseName(canonical), path: canonical, type: "file", size: content.length, modified: node.modified };
    }
    return { name: baseName(canonical), path: canonical, type: "folder", size: 0, modified: undefined };
  }

  async read(path: string, range?: ByteRange): Promise<ReadResult> {
    const canonical = normalizePath(path);
    const node = await this.node(canonical);
    if (node.kind === "mount") return node.storage.read(node.inner, range);
    if (node.kind === "folder") throw new StorageError("wrong_type", `${show(canonical)} is a folder, not a file`, canonical);
    const content = await node.content();
    const { start, end } = checkRange(range, content.length, canonical);
    return {
      stream: Readable.from(end < start ? [] : [content.subarray(start, end + 1)]),
      size: content.length,
      start,
      end,
      contentType: contentTypeOf(baseName(canonical)),
      modified: node.modified,
    };
  }

  /** The mount that `canonical` lies in, for a change; the view's own folders and files refuse. */
  private async writable(canonical: string, verb: string): Promise<Extract<TreeNode, { kind: "mount" }>> {
    const node = await this.resolve(pathSegments(canonical));
    if (node?.kind === "mount" && node.inner !== "") return node;
    if (node === undefined && pathSegments(canonical).length > 0) {
      // A new entry: its parent must lie inside a mount.
      const parent = await this.resolve(pathSegments(canonical).slice(0, -1));
      if (parent?.kind === "mount") return { ...parent, inner: joinPath(parent.inner, baseName(canonical)) };
    }
    throw new StorageError("invalid_path", `cannot ${verb} ${show(canonical)}: ${this.options.fixedFolderMessage}`, canonical);
  }

  async write(path: string, body: Readable | AsyncIterable<Uint8Array>, options?: WriteOptions): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    const mount = await this.writable(canonical, "write");
    return outer(mount.prefix, await mount.storage.write(mount.inner, body, options));
  }

  async mkdir(path: string): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    const node = await this.resolve(pathSegments(canonical));
    if (node !== undefined && node.kind !== "file") return this.stat(canonical);
    const mount = await this.writable(canonical, "make a folder at");
    return outer(mount.prefix, await mount.storage.mkdir(mount.inner));
  }

  async move(from: string, to: string): Promise<StorageEntry> {
    return this.pair(from, to, "move", (storage, a, b) => storage.move(a, b));
  }

  async copy(from: string, to: string): Promise<StorageEntry> {
    return this.pair(from, to, "copy", (storage, a, b) => storage.copy(a, b));
  }

  private async pair(from: string, to: string, verb: "move" | "copy", act: (storage: Storage, from: string, to: string) => Promise<StorageEntry>): Promise<StorageEntry> {
    const source = await this.writable(normalizePath(from), verb);
    const target = await this.writable(normalizePath(to), `${verb} to`);
    if (source.storage !== target.storage)
      throw new StorageError("invalid_argument", `cannot ${verb} ${show(source.prefix)}… to ${show(target.prefix)}…: moves and copies stay within one folder of this volume's root; download and upload instead`, normalizePath(to));
    return outer(source.prefix, await act(source.storage, source.inner, target.inner));
  }

  async delete(path: string): Promise<void> {
    const mount = await this.writable(normalizePath(path), "delete");
    await mount.storage.delete(mount.inner);
  }

  /** Refuses a search or walk that starts above options.walkFrom's depth. */
  private checkWalkFrom(canonical: string, verb: string): void {
    const from = this.options.walkFrom;
    if (from !== undefined && pathSegments(canonical).length < from.depth)
      throw new StorageError("invalid_argument", `cannot ${verb} ${show(canonical)}: ${from.message}`, canonical);
  }

  async search(path: string, query: string, options: SearchOptions = {}): Promise<StorageEntry[]> {
    this.checkWalkFrom(normalizePath(path), "search");
    const limit = searchLimit(options.limit);
    const needle = query.toLowerCase();
    const found: StorageEntry[] = [];
    const visit = async (canonical: string): Promise<void> => {
      const node = await this.node(canonical);
      if (node.kind === "mount") {
        const hits = await node.storage.search(node.inner, query, { limit: limit - found.length });
        found.push(...hits.map((entry) => outer(node.prefix, entry)));
        return;
      }
      if (node.kind === "file") return;
      for (const child of await node.children()) {
        if (found.length >= limit) return;
        const childPath = joinPath(canonical, child.name);
        if (child.name.toLowerCase().includes(needle)) found.push({ ...child, path: childPath });
        if (found.length < limit && child.type === "folder") await visit(childPath);
      }
    };
    await visit(normalizePath(path));
    return found.slice(0, limit);
  }

  async *walk(path: string): AsyncIterable<StorageEntry> {
    const canonical = normalizePath(path);
    this.checkWalkFrom(canonical, "zip");
    const node = await this.node(canonical);
    if (node.kind === "mount") {
      for await (const entry of node.storage.walk(node.inner)) yield outer(node.prefix, entry);
      return;
    }
    if (node.kind === "file") {
      yield await this.stat(canonical);
      return;
    }
    for (const child of await node.children()) yield* this.walk(joinPath(canonical, child.name));
  }
}

/** An entry of a mounted storage as a path of the view. */
function outer(prefix: string, entry: StorageEntry): StorageEntry {
  return { ...entry, path: joinPath(prefix, entry.path) };
}

function cursorKey(cursor: string): string {
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  if (key === "" || Buffer.from(key, "utf8").toString("base64url") !== cursor) throw new StorageError("invalid_argument", `cursor ${JSON.stringify(cursor)} is not one this listing gave`);
  return key;
}
