/**
 * What kind of place a notebook path names: a local path, `-`, an `http(s)://` URL, an `s3://`
 * object, or a Capstan volume as `VOLUME:PATH`. Schemes Capstan does not read or write (`gs://`,
 * `abs://`, `hdfs://`…) are refused with a message that names them, before anything runs.
 */
import { NotebookLocationError } from "../errors.js";

/** The scheme of a URL-shaped path (`s3` for `s3://bucket/key`), else undefined. */
export function pathScheme(path: string): string | undefined {
  return /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(path)?.[1]?.toLowerCase();
}

/** True for an `http://` or `https://` URL. */
export function isHttpUrl(path: string): boolean {
  const scheme = pathScheme(path);
  return scheme === "http" || scheme === "https";
}

/** True for an `s3://bucket/key` URL (papermill also takes `s3n://`). */
export function isS3Url(path: string): boolean {
  const scheme = pathScheme(path);
  return scheme === "s3" || scheme === "s3n";
}

/**
 * A Capstan volume path `VOLUME:PATH` (a volume name is lowercase letters, digits and '-',
 * starting with a letter), else undefined. A local file whose name looks like that is written
 * with a folder in front (`./a:b.ipynb`).
 */
export function volumePath(path: string): { volume: string; path: string } | undefined {
  const match = /^([a-z][a-z0-9-]{0,62}):(?!\/\/)(.*)$/s.exec(path);
  if (match === null) return undefined;
  return { volume: match[1] ?? "", path: match[2] ?? "" };
}

/** The schemes a side accepts, for messages. */
function accepted(side: "read" | "write"): string {
  return side === "read" ? "a local path, - (stdin), an http(s):// URL, an s3:// URL or VOLUME:PATH" : "a local path, - (stdout), an s3:// URL or VOLUME:PATH";
}

/** Throws for a path in a scheme this side (`read` or `write`) does not support. */
export function refuseRemote(path: string, side: "read" | "write"): void {
  const scheme = pathScheme(path);
  if (scheme === undefined || isS3Url(path) || (side === "read" && (scheme === "http" || scheme === "https"))) return;
  throw new NotebookLocationError(path, `${scheme}:// notebooks cannot be ${side === "read" ? "read" : "written"} here; give ${accepted(side)}`);
}
