/**
 * The model registry as stored. A version number is taken inside the transaction that inserts it,
 * with the model's row locked (the primary key (name, version) would make a second writer of the same
 * number fail, never overwrite).
 */
import type { Kysely, Selectable } from "kysely";
import type { ModelAliasesTable, ModelsTable, ModelVersionsTable } from "./model-schema.js";
import type { Database } from "./schema.js";

export type StoredModel = Selectable<ModelsTable>;
export type StoredModelVersion = Selectable<ModelVersionsTable>;
export type StoredModelAlias = Selectable<ModelAliasesTable>;
/** A version to insert; its number is chosen by the repository. */
export type NewModelVersion = Omit<StoredModelVersion, "version">;

export class ModelRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(name: string): Promise<StoredModel | undefined> {
    return this.db.selectFrom("models").selectAll().where("name", "=", name).executeTakeFirst();
  }

  /** Models of the given teams (all when undefined), by name. */
  async list(teams?: readonly string[]): Promise<StoredModel[]> {
    let query = this.db.selectFrom("models").selectAll().orderBy("name");
    if (teams !== undefined) {
      if (teams.length === 0) return [];
      query = query.where("team", "in", teams);
    }
    return query.execute();
  }

  /** Creates the model unless it exists; answers the stored row (whose team may differ from `team`). */
  async ensure(name: string, team: string, now: number): Promise<StoredModel> {
    await this.db.insertInto("models").values({ name, team, createdAt: now }).onConflict((oc) => oc.column("name").doNothing()).execute();
    const row = await this.get(name);
    if (!row) throw new Error(`model ${name} vanished after it was created`);
    return row;
  }

  /**
   * Inserts the next version of the model; answers it with its number. Call it in a transaction: the
   * model's row is locked first (an update that changes nothing), so writers on PostgreSQL take
   * numbers one after the other instead of failing on the same one.
   */
  async addVersion(row: NewModelVersion): Promise<StoredModelVersion> {
    await this.db.updateTable("models").set((eb) => ({ createdAt: eb.ref("createdAt") })).where("name", "=", row.name).execute();
    const last = await this.db.selectFrom("modelVersions").select((eb) => eb.fn.max("version").as("v")).where("name", "=", row.name).executeTakeFirst();
    const version = Number(last?.v ?? 0) + 1;
    const stored = { ...row, version };
    await this.db.insertInto("modelVersions").values(stored).execute();
    return stored;
  }

  /** The version a run's task already registered with this content, if any (a retried or re-recorded registration finds it). */
  async registeredBy(name: string, runId: string, taskId: string, sha256: string): Promise<StoredModelVersion | undefined> {
    return this.db
      .selectFrom("modelVersions")
      .selectAll()
      .where("name", "=", name)
      .where("runId", "=", runId)
      .where("taskId", "=", taskId)
      .where("sha256", "=", sha256)
      .orderBy("version")
      .executeTakeFirst();
  }

  async versions(name: string): Promise<StoredModelVersion[]> {
    return this.db.selectFrom("modelVersions").selectAll().where("name", "=", name).orderBy("version").execute();
  }

  async version(name: string, version: number): Promise<StoredModelVersion | undefined> {
    return this.db.selectFrom("modelVersions").selectAll().where("name", "=", name).where("version", "=", version).executeTakeFirst();
  }

  async aliases(name: string): Promise<StoredModelAlias[]> {
    return this.db.selectFrom("modelAliases").selectAll().where("name", "=", name).orderBy("alias").execute();
  }

  /** Points the alias at the version (creating the alias when new). */
  async setAlias(name: string, alias: string, version: number, now: number): Promise<void> {
    await this.db
      .insertInto("modelAliases")
      .values({ name, alias, version, updatedAt: now })
      .onConflict((oc) => oc.columns(["name", "alias"]).doUpdateSet({ version, updatedAt: now }))
      .execute();
  }
}
