/**
 * Run outputs as one read-only volume, `runs`: PIPELINE/RUN/artifacts/… is the run's shared
 * artifacts folder (a local storage, so links that lead out of it are refused), and
 * PIPELINE/RUN/notebooks/TASK.ipynb the output notebook of a task's latest try, read through a
 * masking function (secret values hidden as on the run pages). Only pipelines of teams the caller
 * may read are listed or reached: all runs' artifacts sit under one folder of the home, so the
 * view filters every path by the pipeline's team, not by folder.
 */
import { close, read } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { promisify } from "node:util";
import { LocalStorage } from "../local/local-storage.js";
import { openInside } from "../local/open-inside.js";
import type { Storage } from "../storage.js";
import { StorageError } from "../storage-error.js";
import { VirtualTreeStorage, type TreeChild, type TreeNode } from "./virtual-tree-storage.js";

/** The name of the run outputs volume (configured volumes may not take it). */
export const RUNS_VOLUME_NAME = "runs";

/** Largest output notebook the view serves (as the run pages). */
const MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024;

/** A task of a run, and the output notebook its latest try named (a path on this machine), if any. */
export interface RunTaskOutput {
  taskId: string;
  notebook: string | undefined;
}

/** What the runs view asks of the platform; every answer is already limited to the caller's teams. */
export interface RunsSource {
  /** The home: runs' folders are artifacts/RUN and attempts/RUN/TASK/TRY under it. */
  home: string;
  /** Pipelines the caller may read. */
  pipelines(): Promise<string[]>;
  /** Runs of `pipeline` (one the caller may read), with when each was made. */
  runs(pipeline: string): Promise<{ id: string; createdAt: number }[]>;
  /** The run `runId` when it belongs to `pipeline` and the caller may read that pipeline. */
  run(pipeline: string, runId: string): Promise<{ id: string; createdAt: number } | undefined>;
  /** The tasks of a run and their output notebooks. */
  tasks(runId: string): Promise<RunTaskOutput[]>;
  /** Hides secret values in a notebook's text. */
  maskNotebook(text: string): Promise<string>;
}

const readFd = promisify(read);
const closeFd = promisify(close);

/** A task's output notebook found inside its attempt folder `dir` (both resolved). */
interface Notebook {
  path: string;
  dir: string;
  size: number;
  modified: number;
}

/**
 * The notebook's text, read from a descriptor checked to lie inside its attempt folder: the
 * task may have swapped the file for a link since it was listed. `name` is the volume path.
 */
async function notebookText(notebook: Notebook, name: string): Promise<string> {
  const { fd, info } = await openInside(notebook.path, notebook.dir, name);
  try {
    if (!info.isFile() || info.size > MAX_NOTEBOOK_BYTES)
      throw new StorageError("wrong_type", `${name} is no longer a notebook of at most ${MAX_NOTEBOOK_BYTES / 1024 / 1024} MiB`, name);
    const body = Buffer.alloc(info.size);
    let filled = 0;
    while (filled < body.length) {
      const { bytesRead } = await readFd(fd, body, filled, body.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return body.subarray(0, filled).toString("utf8");
  } finally {
    await closeFd(fd).catch(() => undefined);
  }
}

/** The runs volume's storage for one caller. */
export function runsVolumeStorage(source: RunsSource): Storage {
  const folder = (children: () => Promise<TreeChild[]>): TreeNode => ({ kind: "folder", children });
  const sub = (name: string, modified: number | undefined = undefined): TreeChild => ({ name, type: "folder", size: 0, modified });

  const notebookOf = async (runId: string, task: RunTaskOutput): Promise<Notebook | undefined> => {
    if (task.notebook?.endsWith(".ipynb") !== true) return undefined;
    try {
      const [real, dir] = await Promise.all([realpath(task.notebook), realpath(join(source.home, "attempts", runId, task.taskId))]);
      if (!real.startsWith(dir + sep)) return undefined;
      const info = await stat(real);
      return info.isFile() && info.size <= MAX_NOTEBOOK_BYTES ? { path: real, dir, size: info.size, modified: info.mtimeMs } : undefined;
    } catch {
      return undefined;
    }
  };
  const notebooks = async (runId: string) => {
    const found = new Map<string, Notebook>();
    for (const task of await source.tasks(runId)) {
      const notebook = await notebookOf(runId, task);
      if (notebook !== undefined) found.set(`${task.taskId}.ipynb`, notebook);
    }
    return found;
  };
  const artifactsDir = (runId: string) => join(source.home, "artifacts", runId);
  const artifactsInfo = async (runId: string) => (await stat(artifactsDir(runId)).catch(() => undefined))?.isDirectory() === true;

  return new VirtualTreeStorage(
    async (segments) => {
      const [pipeline, runId, part, ...rest] = segments;
      if (pipeline === undefined) return folder(async () => (await source.pipelines()).map((name) => sub(name)));
      if (!(await source.pipelines()).includes(pipeline)) return undefined;
      if (runId === undefined) return folder(async () => (await source.runs(pipeline)).map((run) => sub(run.id, run.createdAt)));
      const run = await source.run(pipeline, runId);
      if (run === undefined) return undefined;
      if (part === undefined)
        return folder(async () => [...((await artifactsInfo(runId)) ? [sub("artifacts")] : []), ...((await notebooks(runId)).size > 0 ? [sub("notebooks")] : [])]);
      if (part === "artifacts") {
        if (!(await artifactsInfo(runId))) return undefined;
        return { kind: "mount", storage: new LocalStorage({ root: artifactsDir(runId) }), prefix: `${pipeline}/${runId}/artifacts`, inner: rest.join("/") };
      }
      if (part !== "notebooks") return undefined;
      const found = await notebooks(runId);
      if (rest.length === 0)
        return folder(() => Promise.resolve([...found].map(([name, notebook]): TreeChild => ({ name, type: "file", size: notebook.size, modified: notebook.modified }))));
      const notebook = rest.length === 1 && rest[0] !== undefined ? found.get(rest[0]) : undefined;
      if (notebook === undefined) return undefined;
      const name = [pipeline, runId, part, ...rest].join("/");
      return { kind: "file", modified: notebook.modified, content: async () => Buffer.from(await source.maskNotebook(await notebookText(notebook, name)), "utf8") };
    },
    {
      fixedFolderMessage: "the runs volume is read-only: it shows what runs produced",
      walkFrom: { depth: 2, message: "the runs volume is searched and zipped one run at a time: give a path PIPELINE/RUN or below" },
    },
  );
}
