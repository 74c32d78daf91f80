/**
 * The one check of a volume path before any backend sees it. A path is relative to the volume's
 * root, segments joined by "/": "" is the root, "raw/2026/data.csv" a file, a trailing "/" is
 * allowed. Refused, with a message saying why: a leading "/" or a drive letter (absolute paths),
 * "." and ".." segments and their percent-encoded forms ("%2e%2e", "%252e%252e", "..%2f"),
 * backslashes, NUL and other control characters, empty segments ("a//b"), a segment over 255
 * UTF-8 bytes and a path over 4096.
 *
 * insideRoot() is the matching check on resolved file-system paths: "/data/scopeX" is not inside
 * "/data/scope".
 */
import { sep } from "node:path";
import { StorageError } from "./storage-error.js";

/** Longest segment, in UTF-8 bytes (NAME_MAX of common file systems). */
export const MAX_SEGMENT_BYTES = 255;
/** Longest path, in UTF-8 bytes (S3's key limit is 1024 with the prefix; PATH_MAX is 4096). */
export const MAX_PATH_BYTES = 1024;

/** Checks `input` and returns its segments (empty for the root). */
export function pathSegments(input: string): string[] {
  if (typeof input !== "string") throw new StorageError("invalid_path", "a path must be a string");
  const shown = JSON.stringify(input);
  if (input.includes("\0")) throw new StorageError("invalid_path", `path ${shown} contains a NUL byte`, input);
  // eslint-disable-next-line no-control-regex
  if (/[\u0001-\u001f\u007f]/.test(input)) throw new StorageError("invalid_path", `path ${shown} contains a control character`, input);
  if (input.includes("\\")) throw new StorageError("invalid_path", `path ${shown} contains a backslash; separate folders with "/"`, input);
  if (input.startsWith("/")) throw new StorageError("invalid_path", `path ${shown} is absolute; paths are relative to the volume's root, such as "raw/data.csv"`, input);
  if (/^[A-Za-z]:/.test(input)) throw new StorageError("invalid_path", `path ${shown} starts with a drive letter; paths are relative to the volume's root`, input);
  if (Buffer.byteLength(input) > MAX_PATH_BYTES) throw new StorageError("invalid_path", `path is ${Buffer.byteLength(input)} bytes long; at most ${MAX_PATH_BYTES} are allowed`, input);
  if (input === "") return [];
  const trimmed = input.endsWith("/") ? input.slice(0, -1) : input;
  const segments = trimmed.split("/");
  for (const segment of segments) {
    if (segment === "") throw new StorageError("invalid_path", `path ${shown} has an empty segment ("//" or a doubled trailing "/")`, input);
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
      throw new StorageError("invalid_path", `a name in path ${shown} is ${Buffer.byteLength(segment)} bytes long; at most ${MAX_SEGMENT_BYTES} are allowed`, input);
    const decoded = fullyDecoded(segment);
    if (decoded === "." || decoded === "..")
      throw new StorageError("invalid_path", `path ${shown} has a "${segment}" segment; ".." and "." (also percent-encoded) are not allowed`, input);
    if (decoded !== segment && /[/\\\0]|(^|[/\\])\.\.?($|[/\\])/.test(decoded))
      throw new StorageError("invalid_path", `path ${shown} has a percent-encoded separator or "..": "${segment}"`, input);
  }
  return segments;
}

/** The canonical form of a valid path: segments joined by "/", no trailing "/". */
export function normalizePath(input: string): string {
  return pathSegments(input).join("/");
}

/** The parent folder of a canonical path ("" for a top-level entry and for the root). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** The last segment of a canonical path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Joins a canonical folder path and a child name. */
export function joinPath(folder: string, name: string): string {
  return folder === "" ? name : `${folder}/${name}`;
}

/** True when canonical `inner` is `outer` or inside it ("a/bc" is not inside "a/b"). */
export function isSameOrInside(outer: string, inner: string): boolean {
  return outer === "" || inner === outer || inner.startsWith(`${outer}/`);
}

/** True when the resolved file-system path `candidate` is `root` or inside it ("/v/scopeX" is not inside "/v/scope"). */
export function insideRoot(root: string, candidate: string): boolean {
  const base = root.endsWith(sep) ? root.slice(0, -1) : root;
  return candidate === base || candidate.startsWith(base + sep);
}

/** Percent-decodes until stable (at most 4 rounds), so that double encodings are seen too. */
function fullyDecoded(segment: string): string {
  let current = segment;
  for (let round = 0; round < 4 && current.includes("%"); round += 1) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (next === current) break;
    current = next;
  }
  return current;
}

/** How a volume path is named in messages. */
export function showPath(path: string): string {
  return path === "" ? "the volume's root" : JSON.stringify(path);
}

/**
 * The normalised source and target of a move or copy (`verb`): the root is never the source nor
 * the target, and the target may not be the source or lie inside it.
 */
export function movePair(from: string, to: string, verb: string): [string, string] {
  const sourcePath = normalizePath(from);
  const targetPath = normalizePath(to);
  if (sourcePath === "") throw new StorageError("invalid_path", `the volume's root cannot be the source of a ${verb}`, sourcePath);
  if (targetPath === "") throw new StorageError("exists", `the volume's root already exists; name a new path to ${verb} to`, targetPath);
  if (isSameOrInside(sourcePath, targetPath))
    throw new StorageError("into_itself", `cannot ${verb} ${showPath(sourcePath)} into itself (${showPath(targetPath)})`, targetPath);
  return [sourcePath, targetPath];
}
