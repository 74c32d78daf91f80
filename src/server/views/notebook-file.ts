/**
 * Finds the output notebook of a task attempt: the path in the task's outputs key `notebook`,
 * accepted only when it resolves (symlinks followed) to an .ipynb file inside that attempt's folder,
 * so a task cannot make the API read any other file; and the notebook with secret values masked.
 */
import { realpath, stat } from "node:fs/promises";
import { basename, join, sep } from "node:path";
import type { SecretMask } from "../../secrets/index.js";
import type { Attempt, TaskInstance } from "../../store/index.js";

/** Largest notebook the API serves or renders. */
export const MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024;

/** The notebook's real path, or undefined when the attempt has none (or it lies outside the attempt's folder). */
export async function attemptNotebookPath(ti: TaskInstance, attempt: Attempt): Promise<string | undefined> {
  const named = ti.outputs?.notebook;
  if (!attempt.attemptDir) return undefined;
  // Outputs belong to the latest try; an earlier try's notebook has the same name in its own folder.
  const candidate = typeof named === "string" ? (attempt.tryNumber === ti.tryNumber ? named : join(attempt.attemptDir, basename(named))) : undefined;
  if (!candidate?.endsWith(".ipynb")) return undefined;
  try {
    const [real, dir] = await Promise.all([realpath(candidate), realpath(attempt.attemptDir)]);
    if (!real.startsWith(dir + sep)) return undefined;
    const info = await stat(real);
    if (!info.isFile() || info.size > MAX_NOTEBOOK_BYTES) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

/**
 * A parsed notebook (or any JSON) with secret values masked in every string and key (the same
 * value when there was nothing to mask). A list of
 * strings is masked as the text it stands for (nbformat keeps multi-line text as a list of lines,
 * tracebacks as lines without their line ends), so a value split across lines is found too.
 */
export function maskNotebookValue(value: unknown, mask: SecretMask): unknown {
  if (typeof value === "string") return mask.maskText(value);
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v): v is string => typeof v === "string")) {
      const linesKeepEnds = value.slice(0, -1).every((line) => line.endsWith("\n"));
      const joined = value.join(linesKeepEnds ? "" : "\n");
      const masked = mask.maskText(joined);
      if (masked === joined) return value;
      return linesKeepEnds ? masked.split(/(?<=\n)/) : masked.split("\n");
    }
    const items = value.map((v) => maskNotebookValue(v, mask));
    return items.every((v, i) => v === value[i]) ? value : items;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    const masked = entries.map(([k, v]) => [mask.maskText(k), maskNotebookValue(v, mask)] as const);
    return masked.every(([k, v], i) => k === entries[i]?.[0] && v === entries[i][1]) ? value : Object.fromEntries(masked);
  }
  return value;
}

/**
 * The text of an .ipynb with secret values masked: in each string of the parsed notebook (raw,
 * JSON- and HTML-escaped forms, see maskedForms), then once more over the whole text. A notebook
 * with nothing to mask is returned byte for byte; one that is not JSON is masked as text.
 */
export function maskNotebookText(text: string, mask: SecretMask): string {
  if (mask.empty) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return mask.maskText(text);
  }
  const masked = maskNotebookValue(parsed, mask);
  // A notebook with nothing masked inside keeps its own bytes; nbformat writes one-space indents.
  return mask.maskText(masked === parsed ? text : `${JSON.stringify(masked, null, 1)}\n`);
}
