/**
 * The model registry's operations: register a version from a path (checked as a model archive,
 * copied into the home, content-hashed) with its lineage (run, task, the run's params, the numeric
 * outputs the task reported), list and show models, and move aliases such as `staging` and
 * `production`. Views are zod schemas, so the API's types come from the same source.
 */
import { realpathSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { z } from "zod";
import type { Readable } from "node:stream";
import { checkAliasName, checkModelName, ModelStorage, numericOutputs } from "../models/index.js";
import { ConflictError, InvalidRequestError, NotFoundError } from "../scheduler/index.js";
import type { StoredModel, StoredModelAlias, StoredModelVersion } from "../store/index.js";
import type { OperationsContext, Viewer } from "./context.js";

export const ModelVersionViewSchema = z
  .object({
    name: z.string(),
    version: z.number().int(),
    kind: z.enum(["mar", "dir"]),
    sha256: z.string(),
    size_bytes: z.number().int(),
    artifact_path: z.string().describe("Where the stored copy lies: an absolute path in the home (ready for `capstan serve --models NAME=PATH`), or VOLUME:PATH on the team's volume named in models.store"),
    source_path: z.string(),
    run_id: z.string().nullable(),
    task_id: z.string().nullable(),
    params: z.record(z.string(), z.unknown()).nullable(),
    metrics: z.record(z.string(), z.number()).nullable(),
    aliases: z.array(z.string()),
    created_by: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: "ModelVersion" });
export type ModelVersionView = z.infer<typeof ModelVersionViewSchema>;

export const ModelSummarySchema = z
  .object({
    name: z.string(),
    team: z.string(),
    latest_version: z.number().int().nullable(),
    aliases: z.record(z.string(), z.number().int()),
    created_at: z.string(),
  })
  .meta({ id: "ModelSummary" });
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

export const ModelDetailSchema = ModelSummarySchema.extend({ versions: z.array(ModelVersionViewSchema) }).meta({ id: "ModelDetail" });
export type ModelDetail = z.infer<typeof ModelDetailSchema>;

/** What registering a version needs; `team` defaults to the run's pipeline team, else "default". */
export interface RegisterModelRequest {
  name: string;
  path: string;
  team: string;
  runId?: string | undefined;
  taskId?: string | undefined;
  createdBy?: string | null | undefined;
}

export function noModel(name: string): NotFoundError {
  return new NotFoundError(`name: no model ${JSON.stringify(name)}`);
}

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

/** Where the registry keeps versions' files (the home, or a team's volume). */
function modelStorage(ctx: OperationsContext): ModelStorage {
  return new ModelStorage({ home: ctx.home, volumes: ctx.volumes, stores: ctx.modelStores });
}

function versionView(storage: ModelStorage, row: StoredModelVersion, aliases: readonly StoredModelAlias[]): ModelVersionView {
  return {
    name: row.name,
    version: Number(row.version),
    kind: row.kind === "dir" ? "dir" : "mar",
    sha256: row.sha256,
    size_bytes: Number(row.sizeBytes),
    artifact_path: storage.describe(row.artifactPath),
    source_path: row.sourcePath,
    run_id: row.runId,
    task_id: row.taskId,
    params: row.params === null ? null : (JSON.parse(row.params) as Record<string, unknown>),
    metrics: row.metrics === null ? null : (JSON.parse(row.metrics) as Record<string, number>),
    aliases: aliases.filter((a) => Number(a.version) === Number(row.version)).map((a) => a.alias),
    created_by: row.createdBy,
    created_at: iso(row.createdAt),
  };
}

async function summary(ctx: OperationsContext, model: StoredModel): Promise<ModelSummary & { rows: StoredModelVersion[]; aliasRows: StoredModelAlias[] }> {
  const [rows, aliasRows] = await Promise.all([ctx.store.models.versions(model.name), ctx.store.models.aliases(model.name)]);
  const last = rows.at(-1);
  return {
    name: model.name,
    team: model.team,
    latest_version: last ? Number(last.version) : null,
    aliases: Object.fromEntries(aliasRows.map((a) => [a.alias, Number(a.version)])),
    created_at: iso(model.createdAt),
    rows,
    aliasRows,
  };
}

/** The model when the viewer may read its team; otherwise the same not-found as a model that does not exist. */
async function visibleModel(ctx: OperationsContext, viewer: Viewer, name: string): Promise<StoredModel> {
  const model = await ctx.store.models.get(name);
  if (!model || !viewer.canRead(model.team)) throw noModel(name);
  return model;
}

/** Models of the teams the viewer reads (or of `team` alone). */
export async function listModels(ctx: OperationsContext, viewer: Viewer, team?: string): Promise<ModelSummary[]> {
  const models = (await ctx.store.models.list(team === undefined ? undefined : [team])).filter((m) => viewer.canRead(m.team));
  const out: ModelSummary[] = [];
  for (const model of models) {
    const { rows: _rows, aliasRows: _aliases, ...view } = await summary(ctx, model);
    out.push(view);
  }
  return out;
}

/** A model with every version and its lineage. */
export async function modelDetail(ctx: OperationsContext, viewer: Viewer, name: string): Promise<ModelDetail> {
  const model = await visibleModel(ctx, viewer, name);
  const { rows, aliasRows, ...view } = await summary(ctx, model);
  return { ...view, versions: rows.map((row) => versionView(modelStorage(ctx), row, aliasRows)) };
}

/** One version, by number or by alias. */
export async function modelVersion(ctx: OperationsContext, viewer: Viewer, name: string, versionOrAlias: string): Promise<ModelVersionView> {
  const model = await visibleModel(ctx, viewer, name);
  const aliases = await ctx.store.models.aliases(model.name);
  const number = /^\d+$/.test(versionOrAlias) ? Number(versionOrAlias) : aliases.find((a) => a.alias === versionOrAlias)?.version;
  const row = number === undefined ? undefined : await ctx.store.models.version(model.name, Number(number));
  if (!row) throw new NotFoundError(`version: model ${name} has no version or alias ${JSON.stringify(versionOrAlias)}`);
  return versionView(modelStorage(ctx), row, aliases);
}

/** One version's files as a single archive (a .mar as stored, a model folder zipped like one). */
export async function modelVersionArchive(ctx: OperationsContext, viewer: Viewer, name: string, versionOrAlias: string): Promise<{ version: ModelVersionView; stream: Readable }> {
  const model = await visibleModel(ctx, viewer, name);
  const version = await modelVersion(ctx, viewer, name, versionOrAlias);
  const row = await ctx.store.models.version(model.name, version.version);
  if (!row) throw new NotFoundError(`version: model ${name} has no version ${version.version}`);
  return { version, stream: await modelStorage(ctx).archive(row.artifactPath, version.kind) };
}

/**
 * Refuses a path inside the home unless it lies in the run's artifacts folder: the home holds the
 * database, keys and other teams' files, which no registration may copy out.
 */
function checkSourcePath(home: string, path: string, runId: string | undefined): string {
  if (!isAbsolute(path)) throw new InvalidRequestError(`path: ${JSON.stringify(path)} must be absolute`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new InvalidRequestError(`path: ${path} does not exist`);
  }
  let realHome: string;
  try {
    realHome = realpathSync(home);
  } catch {
    realHome = resolve(home);
  }
  const inside = (dir: string): boolean => {
    const rel = relative(dir, real);
    return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
  };
  if (inside(realHome)) {
    const artifacts = runId === undefined ? undefined : join(realHome, "artifacts", runId);
    if (artifacts === undefined || !inside(artifacts) || real === artifacts) {
      throw new InvalidRequestError(`path: ${path} is inside the Capstan home; only files in the artifacts folder of the run named with run can be registered from there`);
    }
  }
  return real;
}

/** Registers a new version of `name` (creating the model in `team` when new). */
export async function registerModelVersion(ctx: OperationsContext, request: RegisterModelRequest): Promise<ModelVersionView> {
  checkModelName(request.name);
  if (request.taskId !== undefined && request.runId === undefined) throw new InvalidRequestError("run: a task is named without its run; give run too");
  let params: string | null = null;
  let metrics: string | null = null;
  if (request.runId !== undefined) {
    const run = await ctx.store.runs.get(request.runId);
    if (!run) throw new NotFoundError(`run: no run ${JSON.stringify(request.runId)}`);
    params = JSON.stringify(run.params);
    if (request.taskId !== undefined) {
      const task = await ctx.store.tasks.get({ runId: request.runId, taskId: request.taskId });
      if (!task) throw new NotFoundError(`task: run ${request.runId} has no task ${JSON.stringify(request.taskId)}`);
      metrics = JSON.stringify(numericOutputs(task.outputs));
    }
  }
  const existing = await ctx.store.models.get(request.name);
  if (existing && existing.team !== request.team) {
    throw new ConflictError(`name: the model name ${JSON.stringify(request.name)} is taken by another team; choose another name`);
  }
  const source = checkSourcePath(ctx.home, request.path, request.runId);
  const storage = modelStorage(ctx);
  const copied = await storage.put(source, request.name, request.team);
  const now = Date.now();
  const row = await ctx.store.transaction(async (tx) => {
    const model = await tx.models.ensure(request.name, request.team, now);
    if (model.team !== request.team) throw new ConflictError(`name: the model name ${JSON.stringify(request.name)} is taken by another team; choose another name`);
    return tx.models.addVersion({
      name: request.name,
      kind: copied.kind,
      sha256: copied.sha256,
      artifactPath: copied.artifactPath,
      sourcePath: source,
      sizeBytes: copied.sizeBytes,
      runId: request.runId ?? null,
      taskId: request.taskId ?? null,
      params,
      metrics,
      createdBy: request.createdBy ?? null,
      createdAt: now,
    });
  });
  return versionView(storage, row, []);
}

/** The model's team when the viewer may read it (for routes that then check the role). */
export async function modelTeam(ctx: OperationsContext, viewer: Viewer, name: string): Promise<string> {
  return (await visibleModel(ctx, viewer, name)).team;
}

/** Points `alias` at `version` of the model; answers the model. */
export async function setModelAlias(ctx: OperationsContext, viewer: Viewer, name: string, version: number, alias: string): Promise<ModelDetail> {
  checkAliasName(alias);
  const model = await visibleModel(ctx, viewer, name);
  if (/^\d+$/.test(alias)) throw new InvalidRequestError(`alias: ${alias} looks like a version number`);
  if (!(await ctx.store.models.version(model.name, version))) throw new NotFoundError(`version: model ${name} has no version ${version}`);
  const now = Date.now();
  await ctx.store.transaction(async (tx) => {
    await tx.models.setAlias(model.name, alias, version, now);
    // Deployments that follow the alias serve the new version from now on (their controller rolls them).
    await tx.deployments.follow(model.name, alias, version, now);
  });
  return modelDetail(ctx, viewer, name);
}
