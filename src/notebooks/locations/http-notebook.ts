/** Reading an input notebook from an `http(s)://` URL, as papermill does (output is never written there). */
import { NotebookFormatError } from "../errors.js";

/** How long an http(s) input may take to arrive. */
const FETCH_TIMEOUT_MS = 60_000;

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
