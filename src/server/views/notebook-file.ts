/**
 * Finds the output notebook of a task attempt: the path in the task's outputs key `notebook`,
 * accepted only when it resolves (symlinks followed) to an .ipynb file inside that attempt's folder,
 * so a task cannot make the API read any other file.
 */
import { realpath, stat } from "node:fs/promises";
import { basename, join, sep } from "node:path";
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
