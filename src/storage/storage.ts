/**
 * The storage interface every volume kind implements (a local folder, a mounted claim, an S3
 * bucket prefix), and the entry, page and option types it speaks in. Paths are relative to the
 * volume's root ("" is the root, "raw/2026/data.csv" a file) and are checked by storage-path.ts
 * before a backend sees them.
 */
import type { Readable } from "node:stream";

/** What an entry is. */
export type EntryType = "file" | "folder";

/** One file or folder of a volume. */
export interface StorageEntry {
  /** Last path segment ("" for the root). */
  name: string;
  /** Path from the volume's root, without a leading or trailing "/". */
  path: string;
  type: EntryType;
  /** Bytes of a file; 0 for a folder. */
  size: number;
  /** Last modification, epoch milliseconds (undefined where the backend has none, such as an S3 folder). */
  modified: number | undefined;
}

/** Options of {@link Storage.list}. */
export interface ListOptions {
  /** Entries per page, 1..1000 (default 200). */
  limit?: number;
  /** The `next` cursor of the previous page. */
  cursor?: string;
}

/** One page of a folder listing, in S3 key order: by the UTF-8 bytes of `name`, a folder compared as `name/`. */
export interface ListPage {
  entries: StorageEntry[];
  /** Cursor of the next page; undefined on the last one. */
  next: string | undefined;
}

/** A byte range, inclusive at both ends as in HTTP's Range header. */
export interface ByteRange {
  start: number;
  /** Last byte; undefined: to the end of the file. */
  end?: number;
}

/** An open file body. */
export interface ReadResult {
  stream: Readable;
  /** The whole file's size. */
  size: number;
  /** The bytes this stream carries (inclusive), the whole file when no range was asked. */
  start: number;
  end: number;
  contentType: string;
  modified: number | undefined;
}

/** Options of {@link Storage.write}. */
export interface WriteOptions {
  /** Replace an existing file (default false: an existing file is a conflict). */
  overwrite?: boolean;
}

/** Options of {@link Storage.search}. */
export interface SearchOptions {
  /** Most entries returned (default 100, at most 1000). */
  limit?: number;
}

/** One interface over every kind of volume; each backend passes test/storage/contract.test.ts. */
export interface Storage {
  /** The kind of backend ("local", "s3"). */
  readonly kind: string;
  /** A page of a folder's direct children. */
  list(path: string, options?: ListOptions): Promise<ListPage>;
  /** One entry; a StorageError not_found when absent. */
  stat(path: string): Promise<StorageEntry>;
  /** A file's body, whole or a byte range (a range past the end is invalid_range). */
  read(path: string, range?: ByteRange): Promise<ReadResult>;
  /**
   * Streams `body` into a file. The file appears under its name only once complete: a failed or
   * interrupted write leaves no file (or the previous one) under that name. Parent folders are made.
   */
  write(path: string, body: Readable | AsyncIterable<Uint8Array>, options?: WriteOptions): Promise<StorageEntry>;
  /** Makes a folder and its parents; an existing folder is fine, an existing file is a conflict. */
  mkdir(path: string): Promise<StorageEntry>;
  /** Moves or renames a file or folder; the target must not exist. */
  move(from: string, to: string): Promise<StorageEntry>;
  /** Copies a file or folder; the target must not exist. */
  copy(from: string, to: string): Promise<StorageEntry>;
  /** Deletes a file, or a folder with everything in it. */
  delete(path: string): Promise<void>;
  /** Entries under `path` (at any depth) whose name contains `query`, ignoring case. */
  search(path: string, query: string, options?: SearchOptions): Promise<StorageEntry[]>;
  /** Every file under `path` (at any depth), for archives; folders are implied by the file paths, empty ones listed too. */
  walk(path: string): AsyncIterable<StorageEntry>;
}
