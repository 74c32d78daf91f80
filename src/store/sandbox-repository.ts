/**
 * Sandboxes as stored. State changes are conditional (`… WHERE state IN (expected)`), so two callers
 * racing on one sandbox can never both win; src/sandboxes decides which moves are allowed.
 */
import type { Kysely, Selectable } from "kysely";
import type { SandboxesTable, SandboxState } from "./sandbox-schema.js";
import type { Database } from "./schema.js";

export type StoredSandbox = Selectable<SandboxesTable>;

/** Fields a state change may set along with the state. */
export type SandboxPatch = Partial<Pick<StoredSandbox, "reason" | "gpus" | "runtime" | "startedAt" | "lastActivity" | "profile" | "upstreamToken">>;

export class SandboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: StoredSandbox): Promise<void> {
    await this.db.insertInto("sandboxes").values(row).execute();
  }

  async get(id: string): Promise<StoredSandbox | undefined> {
    return this.db.selectFrom("sandboxes").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async byOwnerName(owner: string, name: string): Promise<StoredSandbox | undefined> {
    return this.db.selectFrom("sandboxes").selectAll().where("owner", "=", owner).where("name", "=", name).executeTakeFirst();
  }

  /** Sandboxes of the given teams (all when undefined), newest first. */
  async list(filter: { teams?: readonly string[]; owner?: string; states?: readonly SandboxState[] } = {}): Promise<StoredSandbox[]> {
    let query = this.db.selectFrom("sandboxes").selectAll().orderBy("createdAt", "desc").orderBy("id");
    if (filter.teams !== undefined) {
      if (filter.teams.length === 0) return [];
      query = query.where("team", "in", filter.teams);
    }
    if (filter.owner !== undefined) query = query.where("owner", "=", filter.owner);
    if (filter.states !== undefined) {
      if (filter.states.length === 0) return [];
      query = query.where("state", "in", filter.states);
    }
    return query.execute();
  }

  /** Sandboxes of a team, and the GPUs of those that hold them (starting, running, stopping). */
  async teamUsage(team: string): Promise<{ sandboxes: number; gpus: number }> {
    const rows = await this.db.selectFrom("sandboxes").select(["state", "gpus"]).where("team", "=", team).execute();
    let gpus = 0;
    for (const row of rows) if (row.state === "starting" || row.state === "running" || row.state === "stopping") gpus += row.gpus;
    return { sandboxes: rows.length, gpus };
  }

  /** Moves the sandbox to `to` if it is in one of `from`; false when it was not (someone else moved it). */
  async move(id: string, from: readonly SandboxState[], to: SandboxState, patch: SandboxPatch, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable("sandboxes")
      .set({ ...patch, state: to, updatedAt: now })
      .where("id", "=", id)
      .where("state", "in", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records activity; never moves it backwards. */
  async touch(id: string, at: number): Promise<void> {
    await this.db.updateTable("sandboxes").set({ lastActivity: at }).where("id", "=", id).where("lastActivity", "<", at).execute();
  }

  async delete(id: string, from: readonly SandboxState[]): Promise<boolean> {
    const result = await this.db.deleteFrom("sandboxes").where("id", "=", id).where("state", "in", from).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
