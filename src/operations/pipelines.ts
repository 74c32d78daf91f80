/** Pipelines: the list with recent runs and broken files, one pipeline with its spec, its versions, pausing. */
import { NotFoundError } from "../scheduler/index.js";
import { pipelineSummary, type LoadErrorView, type PipelineDetail, type PipelineList } from "./views.js";
import type { OperationsContext, Viewer } from "./context.js";
import { LoadErrorTeams } from "./load-error-team.js";

/** How many recent runs a pipeline summary carries. */
const LAST_RUNS = 10;

/** Teams of broken files, read from the files at most once per change of each (shared: keyed by path and mtime). */
const loadErrorTeams = new LoadErrorTeams();

export function noPipeline(id: string): NotFoundError {
  return new NotFoundError(`no pipeline ${JSON.stringify(id)}`);
}

/** The pipelines the viewer may see, with their last runs, and the files that failed to load that it may see. */
export async function listPipelines(ctx: OperationsContext, viewer: Viewer): Promise<PipelineList> {
  const visible = ctx.pipelines.list().filter((p) => viewer.canRead(p.spec.team));
  const [rows, latest, loadErrors] = await Promise.all([
    ctx.store.pipelines.list(),
    ctx.store.grid.latestRuns(
      visible.map((p) => p.spec.id),
      LAST_RUNS,
    ),
    ctx.loadErrors(),
  ]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const pipelines = visible.map((loaded) => pipelineSummary(loaded, byId.get(loaded.spec.id)?.paused === 1, latest.get(loaded.spec.id) ?? []));
  // A file's error shows its paths and text: only to those who may see the file's team (see load-error-team.ts).
  const errors: LoadErrorView[] = [];
  for (const e of loadErrors) {
    const team = await loadErrorTeams.teamOf(e.file, rows);
    if (team === undefined ? !viewer.isAdmin : !viewer.canRead(team)) continue;
    const owner = rows.filter((r) => r.file === e.file).sort((a, b) => b.updatedAt - a.updatedAt)[0];
    errors.push({ file: e.file, message: e.message, issues: [...e.issues] as LoadErrorView["issues"], pipeline: owner?.id ?? e.pipelineId ?? null });
  }
  return { pipelines, errors };
}

/** A loaded pipeline: summary, normalised spec and source. */
export async function pipelineDetail(ctx: OperationsContext, viewer: Viewer, id: string): Promise<PipelineDetail> {
  const loaded = ctx.pipelines.get(id);
  if (!loaded || !viewer.canRead(loaded.spec.team)) throw noPipeline(id);
  const [row, latest] = await Promise.all([ctx.store.pipelines.get(loaded.spec.id), ctx.store.grid.latestRuns([loaded.spec.id], LAST_RUNS)]);
  return {
    ...pipelineSummary(loaded, row?.paused === 1, latest.get(loaded.spec.id) ?? []),
    spec: loaded.spec,
    source: loaded.source,
    can_edit: viewer.canEdit(loaded.spec.team),
  };
}

/** Versions of a pipeline (content hashes), newest first. */
export async function pipelineVersions(ctx: OperationsContext, id: string): Promise<{ versions: { version: string; file: string; commit: string | null; created_at: string }[] }> {
  const versions = await ctx.store.pipelines.listVersions(id);
  return { versions: versions.map((v) => ({ version: v.version, file: v.file, commit: v.gitCommit, created_at: new Date(v.createdAt).toISOString() })) };
}

/** One version of a pipeline with the spec and source it had. */
export async function pipelineVersion(ctx: OperationsContext, id: string, version: string) {
  const found = await ctx.store.pipelines.getVersion(id, version);
  if (!found) throw new NotFoundError(`no version ${JSON.stringify(version)}`);
  return { pipeline: found.pipelineId, version: found.version, file: found.file, commit: found.gitCommit, created_at: new Date(found.createdAt).toISOString(), spec: JSON.parse(found.spec) as Record<string, unknown>, source: found.source };
}

/** Pauses or resumes a pipeline's schedule. */
export async function setPaused(ctx: OperationsContext, id: string, paused: boolean): Promise<{ id: string; paused: boolean }> {
  if (!(await ctx.store.pipelines.setPaused(id, paused, Date.now()))) throw noPipeline(id);
  (await ctx.scheduler()).pipelinesChanged();
  return { id, paused };
}
