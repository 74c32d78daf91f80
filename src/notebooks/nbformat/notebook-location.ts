/**
 * Where a notebook may be read from and written to: local paths and `-` both ways, and
 * `http(s)://` URLs for input (as papermill reads them). Any other scheme (`s3://`, `gs://`,
 * `abs://`, `hdfs://`…) is refused with a message that names it, before anything runs.
 */
import { NotebookFormatError, NotebookLocationError } from "../errors.js";

/** How long an http(s) input may take to arrive. */
const FETCH_TIMEOUT_MS = 60_000;

/** The scheme of a URL-shaped path (`s3` for `s3://bucket/key`), else undefined. */
export function pathScheme(path: string): string | undefined {
  return /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(path)?.[1]?.toLowerCase();
}

/** True for an `http://` or `https://` URL. */
export function isHttpUrl(path: string): boolean {
  const scheme = pathScheme(path);
  return scheme === "http" || scheme === "https";
}

/** Throws for a path in a scheme this side (`read` or `write`) does not support. */
export function refuseRemote(path: string, side: "read" | "write"): void {
  const scheme = pathScheme(path);
  if (scheme === undefined || (side === "read" && (scheme === "http" || scheme === "https"))) return;
  const accepted = side === "read" ? "a local path, - (stdin) or an http(s):// URL" : "a local path or - (stdout)";
  throw new NotebookLocationError(path, `${scheme}:// notebooks cannot be ${side === "read" ? "read" : "written"} here; give ${accepted}`);
}

/** The text of a notebook at an http(s) URL; a failed request names the status or the cause. */
export async function fetchNotebookText(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: "application/x-ipynb+json, application/json;q=0.9, */*;q=0.1" } });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new NotebookFormatError(url, `cannot read the input notebook: ${cause}`, { cause: error });
  }
  if (!response.ok) {
    throw new NotebookFormatError(url, `cannot read the input notebook: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  return response.text();
}
