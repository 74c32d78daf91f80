/** Pipelines, their versions (spec and source per content hash) and the errors of files that failed to load. */
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface PipelineVersionInput {
  id: string;
  team: string;
  version: string;
  file: string;
  baseDir: string;
  description: string | null;
  scheduleText: string | null;
  /** The normalised spec as JSON text. */
  spec: string;
  source: string;
  /** The git commit of the file (pipelines.git), else null. */
  commit?: string | null;
}

export interface LoadErrorInput {
  file: string;
  pipelineId: string | null;
  message: string;
  issues: unknown[];
}

export class PipelineRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records the current version of a pipeline (and the version itself, once). */
  async upsert(input: PipelineVersionInput, now: number): Promise<void> {
    await this.db
      .insertInto("pipelineVersions")
      .values({ pipelineId: input.id, version: input.version, spec: input.spec, source: input.source, file: input.file, baseDir: input.baseDir, gitCommit: input.commit ?? null, createdAt: now })
      .onConflict((oc) => oc.columns(["pipelineId", "version"]).doNothing())
      .execute();
    await this.db
      .insertInto("pipelines")
      .values({ id: input.id, team: input.team, file: input.file, version: input.version, description: input.description, scheduleText: input.scheduleText, paused: 0, active: 1, updatedAt: now })
      .onConflict((oc) =>
        oc.column("id").doUpdateSet({ team: input.team, file: input.file, version: input.version, description: input.description, scheduleText: input.scheduleText, active: 1, updatedAt: now }),
      )
      .execute();
  }

  async markInactive(ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable("pipelines").set({ active: 0, updatedAt: now }).where("id", "in", ids).execute();
  }

  async setPaused(id: string, paused: boolean, now: number): Promise<boolean> {
    const result = await this.db.updateTable("pipelines").set({ paused: paused ? 1 : 0, updatedAt: now }).where("id", "=", id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async list() {
    return this.db.selectFrom("pipelines").selectAll().orderBy("id").execute();
  }

  async get(id: string) {
    return this.db.selectFrom("pipelines").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async getVersion(pipelineId: string, version: string) {
    return this.db.selectFrom("pipelineVersions").selectAll().where("pipelineId", "=", pipelineId).where("version", "=", version).executeTakeFirst();
  }

  async listVersions(pipelineId: string) {
    return this.db
      .selectFrom("pipelineVersions")
      .select(["pipelineId", "version", "file", "gitCommit", "createdAt"])
      .where("pipelineId", "=", pipelineId)
      .orderBy("createdAt", "desc")
      .execute();
  }

  /** Replaces the recorded load errors with the current ones. */
  async replaceLoadErrors(errors: readonly LoadErrorInput[], now: number): Promise<void> {
    await this.db.deleteFrom("loadErrors").execute();
    if (errors.length === 0) return;
    await this.db
      .insertInto("loadErrors")
      .values(errors.map((e) => ({ file: e.file, pipelineId: e.pipelineId, message: e.message, issues: JSON.stringify(e.issues), at: now })))
      .execute();
  }

  async listLoadErrors() {
    const rows = await this.db.selectFrom("loadErrors").selectAll().orderBy("file").execute();
    return rows.map((r) => ({ ...r, issues: JSON.parse(r.issues) as unknown[] }));
  }
}
