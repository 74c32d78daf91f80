/**
 * The path a task names in its `register_model.output`, checked as hostile input: a string, resolved
 * against the pipeline's folder when relative, links followed, and accepted only inside the run's
 * artifacts folder or the pipeline's own folder (never elsewhere in the Capstan home, which holds
 * the database, keys and other teams' files).
 */
import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";

/** Where a task's model may lie. */
export interface TaskModelFolders {
  home: string;
  /** The run's artifacts folder ($CAPSTAN_ARTIFACTS_DIR). */
  artifactsDir: string;
  /** The folder of the pipeline file (relative paths resolve against it). */
  pipelineDir: string;
}

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Whether `path` lies strictly inside `dir` (both already real). */
function strictlyInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** The real path of the model the output names; throws an Error whose message says what is wrong and what is accepted. */
export function resolveTaskModelPath(outputKey: string, value: unknown, folders: TaskModelFolders): string {
  const field = `output ${outputKey}`;
  if (value === undefined) throw new Error(`${field}: the task reported no such output; write {"${outputKey}": "PATH"} to $CAPSTAN_OUTPUT`);
  if (typeof value !== "string" || value.trim() === "") throw new Error(`${field}: expected the path of a .mar file or a model folder as a string, got ${JSON.stringify(value)?.slice(0, 100) ?? typeof value}`);
  if (value.includes("\0")) throw new Error(`${field}: the path holds a NUL byte`);
  const written = isAbsolute(value) ? value : resolve(folders.pipelineDir, value);
  let real: string;
  try {
    real = realpathSync(written);
  } catch {
    throw new Error(`${field}: ${value} does not exist`);
  }
  const artifacts = realOr(folders.artifactsDir);
  const pipelineDir = realOr(folders.pipelineDir);
  const home = realOr(folders.home);
  if (strictlyInside(artifacts, real)) return real;
  // The pipeline's folder may hold the home (pipelines in ".", home in ./.capstan); the home stays out
  // unless the pipeline's folder is itself a checkout inside it.
  const homeExcluded = (real === home || strictlyInside(home, real)) && !strictlyInside(home, pipelineDir);
  if (strictlyInside(pipelineDir, real) && !homeExcluded) return real;
  throw new Error(
    `${field}: ${value} lies outside the run's artifacts folder ($CAPSTAN_ARTIFACTS_DIR) and the pipeline's folder${real !== written ? ` (it resolves to ${real})` : ""}; write the model into one of them`,
  );
}
