/** Team secrets as stored: encrypted data and the list of its keys (names only, for listings). */
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface StoredSecret {
  team: string;
  name: string;
  ciphertext: string;
  keys: string[];
  createdAt: number;
  updatedAt: number;
}

export class SecretRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(team?: string): Promise<StoredSecret[]> {
    let query = this.db.selectFrom("secrets").selectAll().orderBy("team").orderBy("name");
    if (team !== undefined) query = query.where("team", "=", team);
    return (await query.execute()).map((r) => ({ ...r, keys: JSON.parse(r.keys) as string[] }));
  }

  async get(team: string, name: string): Promise<StoredSecret | undefined> {
    const row = await this.db.selectFrom("secrets").selectAll().where("team", "=", team).where("name", "=", name).executeTakeFirst();
    return row && { ...row, keys: JSON.parse(row.keys) as string[] };
  }

  async upsert(team: string, name: string, ciphertext: string, keys: readonly string[], now: number): Promise<void> {
    await this.db
      .insertInto("secrets")
      .values({ team, name, ciphertext, keys: JSON.stringify(keys), createdAt: now, updatedAt: now })
      .onConflict((oc) => oc.columns(["team", "name"]).doUpdateSet({ ciphertext, keys: JSON.stringify(keys), updatedAt: now }))
      .execute();
  }

  async delete(team: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom("secrets").where("team", "=", team).where("name", "=", name).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
