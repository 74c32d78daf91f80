/** Pools: named slot counts that limit how many tasks of the pool run at once. */
import type { Kysely } from "kysely";
import type { Pool } from "./records.js";
import type { Database } from "./schema.js";

export class PoolRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<Pool[]> {
    return this.db.selectFrom("pools").selectAll().orderBy("name").execute();
  }

  async get(name: string): Promise<Pool | undefined> {
    return this.db.selectFrom("pools").selectAll().where("name", "=", name).executeTakeFirst();
  }

  /** Creates the pool or changes its slots and description. */
  async upsert(name: string, slots: number, description: string | null, now: number): Promise<void> {
    await this.db
      .insertInto("pools")
      .values({ name, slots, description, createdAt: now })
      .onConflict((oc) => oc.column("name").doUpdateSet({ slots, description }))
      .execute();
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom("pools").where("name", "=", name).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
