/** Share links as stored: made, read, listed, revoked once (a conditional update) and their downloads counted in the database. */
import { sql, type Kysely, type Selectable } from "kysely";
import type { SharesTable } from "./share-schema.js";
import type { Database } from "./schema.js";

export type StoredShare = Selectable<SharesTable>;

export class ShareRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: StoredShare): Promise<void> {
    await this.db.insertInto("shares").values(row).execute();
  }

  async get(id: string): Promise<StoredShare | undefined> {
    return this.db.selectFrom("shares").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** Shares of `owner` (all when undefined), newest first. */
  async list(filter: { owner?: string } = {}): Promise<StoredShare[]> {
    let query = this.db.selectFrom("shares").selectAll().orderBy("createdAt", "desc").orderBy("id");
    if (filter.owner !== undefined) query = query.where("owner", "=", filter.owner);
    return query.execute();
  }

  /** Revokes the share unless it already was; false when it was (or does not exist). */
  async revoke(id: string, at: number): Promise<boolean> {
    const result = await this.db.updateTable("shares").set({ revokedAt: at }).where("id", "=", id).where("revokedAt", "is", null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Adds one download, in the database (two replicas counting at once both count). */
  async countDownload(id: string): Promise<void> {
    await this.db
      .updateTable("shares")
      .set({ downloads: sql`downloads + 1` })
      .where("id", "=", id)
      .execute();
  }
}
