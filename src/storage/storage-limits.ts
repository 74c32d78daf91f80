/** Limits and argument checks shared by every backend: page sizes, search sizes, byte ranges. */
import type { ByteRange } from "./storage.js";
import { StorageError } from "./storage-error.js";

/** Entries per listing page when none is asked. */
export const DEFAULT_PAGE_SIZE = 200;
/** Most entries per listing page (S3's own maximum). */
export const MAX_PAGE_SIZE = 1000;

/** The page size of a listing: 1..1000, default 200. */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
    throw new StorageError("invalid_argument", `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}; got ${String(limit)}`);
  return limit;
}

/** The most results of a search: 1..1000, default 100. */
export function searchLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new StorageError("invalid_argument", `limit must be a whole number from 1 to 1000; got ${String(limit)}`);
  return limit;
}

/**
 * The inclusive bytes to send of a file of `size` bytes: the whole file without a range (an empty
 * file gives end = -1), else the range with its end clamped to the last byte. A start past the
 * end of the file is invalid_range (HTTP 416).
 */
export function checkRange(range: ByteRange | undefined, size: number, path: string): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size - 1 };
  const { start } = range;
  const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
  if (!Number.isInteger(start) || start < 0 || (range.end !== undefined && (!Number.isInteger(range.end) || range.end < start)))
    throw new StorageError("invalid_range", `bytes ${start}-${range.end ?? ""} is not a valid range`, path);
  if (start >= size)
    throw new StorageError("invalid_range", `bytes ${start}-${range.end ?? ""} start past the end of the file (${size} bytes)`, path);
  return { start, end };
}
