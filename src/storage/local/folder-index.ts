/**
 * Sorted name indexes of local folders, so that a page of a folder with 100,000 entries costs a
 * binary search and a stat of the page's entries, not a readdir and sort of the whole folder.
 * An index is kept only while the folder's mtime and ctime are unchanged, and only when that
 * mtime was already older than the clock's coarse step when the folder was read (a change in
 * the same tick would not move it); the backend also forgets a folder whenever it changes it.
 */
import { readdir, stat } from "node:fs/promises";
import { StorageError } from "../storage-error.js";
import { compareUtf8, sortKey } from "../name-order.js";

/** Hidden name prefix of uploads in progress; never listed. */
export const UPLOAD_TEMP_PREFIX = ".capstan-upload-";

/** True for the temporary file of an upload in progress. */
export function isUploadTemp(name: string): boolean {
  return name.startsWith(UPLOAD_TEMP_PREFIX);
}

/** Folders whose index is kept (least recently used dropped first). */
const MAX_INDEXES = 32;
/** An mtime younger than this when read may still change within the same timestamp. */
const SETTLE_NS = 50_000_000n;

interface Indexed {
  mtime: bigint;
  ctime: bigint;
  /** Sort keys ("name" or "name/"), in S3 key order. */
  keys: string[];
}

/** The sorted name indexes of recently listed folders. */
export class FolderIndex {
  private readonly indexes = new Map<string, Indexed>();

  /**
   * Names of the page after `cursor` (opaque, from a previous page) of folder `real`.
   * `isFolder` is asked for entries whose type readdir cannot tell (symbolic links).
   */
  async page(
    real: string,
    limit: number,
    cursor: string | undefined,
    isFolder: (name: string) => Promise<boolean>,
  ): Promise<{ names: string[]; next: string | undefined }> {
    const keys = await this.keysOf(real, isFolder);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    let low = 0;
    if (after !== undefined) {
      let high = keys.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (compareUtf8(keys[middle] ?? "", after) <= 0) low = middle + 1;
        else high = middle;
      }
    }
    const slice = keys.slice(low, low + limit);
    const last = slice[slice.length - 1];
    const next = low + limit < keys.length && last !== undefined ? encodeCursor(last) : undefined;
    return { names: slice.map((key) => (key.endsWith("/") ? key.slice(0, -1) : key)), next };
  }

  /** Drops the index of folder `real` (after a change made through the backend). */
  forget(real: string): void {
    this.indexes.delete(real);
  }

  private async keysOf(real: string, isFolder: (name: string) => Promise<boolean>): Promise<string[]> {
    const before = await stat(real, { bigint: true });
    const cached = this.indexes.get(real);
    if (cached !== undefined && cached.mtime === before.mtimeNs && cached.ctime === before.ctimeNs) {
      this.indexes.delete(real);
      this.indexes.set(real, cached);
      return cached.keys;
    }
    const dirents = await readdir(real, { withFileTypes: true });
    const keys: string[] = [];
    for (const dirent of dirents) {
      if (isUploadTemp(dirent.name)) continue;
      const folder = dirent.isDirectory() || (dirent.isSymbolicLink() && (await isFolder(dirent.name)));
      keys.push(sortKey(dirent.name, folder));
    }
    // Without code units from U+D800 up, UTF-16 order is UTF-8 order and the native sort is several times faster.
    if (keys.some((key) => /[\uD800-\uFFFF]/.test(key))) keys.sort(compareUtf8);
    else keys.sort();
    const settled = BigInt(Date.now()) * 1_000_000n - before.mtimeNs > SETTLE_NS && BigInt(Date.now()) * 1_000_000n - before.ctimeNs > SETTLE_NS;
    if (settled) {
      this.indexes.set(real, { mtime: before.mtimeNs, ctime: before.ctimeNs, keys });
      while (this.indexes.size > MAX_INDEXES) {
        const oldest = this.indexes.keys().next().value;
        if (oldest === undefined) break;
        this.indexes.delete(oldest);
      }
    }
    return keys;
  }
}

/** A cursor is the last sort key of the previous page, base64url so that it is opaque and URL-safe. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw new StorageError("invalid_argument", "the cursor is not one a listing returned");
  return Buffer.from(cursor, "base64url").toString("utf8");
}
