/**
 * Deployments as stored. The version served changes in one statement that also records the one
 * before (`previous_version`), so rollback always knows where to go back to.
 */
import type { Insertable, Kysely, Selectable } from "kysely";
import type { DeploymentsTable, DeploymentState } from "./deployment-schema.js";
import type { Database } from "./schema.js";

export type StoredDeployment = Selectable<DeploymentsTable>;

/** What a user may change after creation. */
export type DeploymentPatch = Partial<Pick<StoredDeployment, "replicas" | "ref" | "state" | "message">>;

export class DeploymentRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a new deployment; token authorization defaults to on, the inference key to none yet. */
  async insert(row: Insertable<DeploymentsTable>): Promise<void> {
    await this.db.insertInto("deployments").values(row).execute();
  }

  async get(name: string): Promise<StoredDeployment | undefined> {
    return this.db.selectFrom("deployments").selectAll().where("name", "=", name).executeTakeFirst();
  }

  /** Deployments of the given teams (all when undefined), optionally of one model, by name. */
  async list(filter: { teams?: readonly string[]; model?: string } = {}): Promise<StoredDeployment[]> {
    let query = this.db.selectFrom("deployments").selectAll().orderBy("name");
    if (filter.teams !== undefined) {
      if (filter.teams.length === 0) return [];
      query = query.where("team", "in", filter.teams);
    }
    if (filter.model !== undefined) query = query.where("model", "=", filter.model);
    return query.execute();
  }

  async update(name: string, patch: DeploymentPatch, now: number): Promise<void> {
    await this.db.updateTable("deployments").set({ ...patch, updatedAt: now }).where("name", "=", name).execute();
  }

  /** Serves `version` from now on, remembering the version served before; false when it already served it. */
  async moveTo(name: string, version: number, now: number): Promise<boolean> {
    const row = await this.get(name);
    if (!row || Number(row.version) === version) return false;
    const result = await this.db
      .updateTable("deployments")
      .set({ previousVersion: row.version, version, state: "pending", message: null, updatedAt: now })
      .where("name", "=", name)
      .where("version", "=", row.version)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Moves every deployment that follows `ref` of `model` to `version`; answers their names. */
  async follow(model: string, ref: string, version: number, now: number): Promise<string[]> {
    const rows = await this.db.selectFrom("deployments").select(["name"]).where("model", "=", model).where("ref", "=", ref).where("version", "!=", version).execute();
    const moved: string[] = [];
    for (const row of rows) if (await this.moveTo(row.name, version, now)) moved.push(row.name);
    return moved;
  }

  /** What the controller saw; never overwrites a deployment being deleted with another state. */
  async report(name: string, state: DeploymentState, message: string | null, replicaStatus: string | null, now: number): Promise<void> {
    await this.db.updateTable("deployments").set({ state, message, replicaStatus, updatedAt: now }).where("name", "=", name).where("state", "!=", "deleting").execute();
  }

  /** The deployment's inference key: `key` stored when it has none yet, else the one stored (first writer wins). */
  async inferenceKey(name: string, key: string): Promise<string | undefined> {
    await this.db.updateTable("deployments").set({ inferenceKey: key }).where("name", "=", name).where("inferenceKey", "is", null).execute();
    return (await this.db.selectFrom("deployments").select(["inferenceKey"]).where("name", "=", name).executeTakeFirst())?.inferenceKey ?? undefined;
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom("deployments").where("name", "=", name).execute();
  }
}
