/**
 * The volumes the platform makes for a caller beside the configured ones: `home-USER`, the
 * caller's own sandbox homes on this machine (nobody else's, admins included), and `runs`, the
 * read-only outputs (artifacts, output notebooks) of runs of pipelines whose team the caller may
 * read. Both are built for each request from the store, so they follow sandboxes and runs as
 * they come and go.
 */
import { join } from "node:path";
import { sandboxFolders } from "../sandboxes/local/sandbox-home.js";
import { maskNotebookText } from "../server/views/notebook-file.js";
import { homeVolumeName, homeVolumeStorage, RUNS_VOLUME_NAME, runsVolumeStorage, type Volume } from "../storage/index.js";
import type { OperationsContext, Viewer } from "./context.js";

/** What building the platform's volumes needs. */
export type GeneratedVolumesContext = Pick<OperationsContext, "store" | "home" | "secrets">;

/** Most runs of one pipeline listed in the runs volume (newest first). */
const MAX_RUNS_LISTED = 10_000;

/** The caller's home volume (none for a caller without a user, such as the CLI on the home itself). */
export function homeVolume(ctx: GeneratedVolumesContext, viewer: Viewer): Volume | undefined {
  const username = viewer.username;
  if (username === null) return undefined;
  const root = join(ctx.home, "sandboxes");
  return {
    name: homeVolumeName(username),
    team: "",
    owner: username,
    kind: "home",
    description: `Homes of ${username}'s sandboxes on this machine, one folder per sandbox`,
    readOnly: false,
    storage: homeVolumeStorage(async () =>
      (await ctx.store.sandboxes.list({ owner: username })).filter((sandbox) => sandbox.backend === "local").map((sandbox) => ({ name: sandbox.name, folder: sandboxFolders(root, sandbox.id).home })),
    ),
  };
}

/** The runs volume as `viewer` sees it: only pipelines of teams it may read. */
export function runsVolume(ctx: GeneratedVolumesContext, viewer: Viewer): Volume {
  const readable = async () => (await ctx.store.pipelines.list()).filter((pipeline) => viewer.canRead(pipeline.team)).map((pipeline) => pipeline.id);
  return {
    name: RUNS_VOLUME_NAME,
    team: "",
    kind: "runs",
    description: "Outputs of your teams' pipeline runs: PIPELINE/RUN/artifacts and PIPELINE/RUN/notebooks/TASK.ipynb (read-only)",
    readOnly: true,
    storage: runsVolumeStorage({
      home: ctx.home,
      pipelines: readable,
      runs: async (pipeline) => (await ctx.store.runs.list({ pipelineId: pipeline, limit: MAX_RUNS_LISTED })).map((run) => ({ id: run.id, createdAt: run.createdAt })),
      run: async (pipeline, runId) => {
        const run = await ctx.store.runs.get(runId);
        return run?.pipelineId === pipeline && (await readable()).includes(pipeline) ? { id: run.id, createdAt: run.createdAt } : undefined;
      },
      tasks: async (runId) =>
        (await ctx.store.tasks.listByRun(runId)).map((ti) => ({ taskId: ti.taskId, notebook: typeof ti.outputs?.notebook === "string" ? ti.outputs.notebook : undefined })),
      maskNotebook: async (text) => maskNotebookText(text, await ctx.secrets.mask()),
    }),
  };
}
