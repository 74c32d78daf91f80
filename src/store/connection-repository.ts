/** Team connections as stored: kind, settings and secret references as JSON (never a secret's value). */
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface StoredConnection {
  team: string;
  name: string;
  kind: string;
  description: string | null;
  settings: Record<string, unknown>;
  /** Credential field → "secret-name/key" in the team's secrets. */
  secretRefs: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export type ConnectionInput = Omit<StoredConnection, "createdAt" | "updatedAt">;

export class ConnectionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(team?: string): Promise<StoredConnection[]> {
    let query = this.db.selectFrom("connections").selectAll().orderBy("team").orderBy("name");
    if (team !== undefined) query = query.where("team", "=", team);
    return (await query.execute()).map(fromRow);
  }

  async get(team: string, name: string): Promise<StoredConnection | undefined> {
    const row = await this.db.selectFrom("connections").selectAll().where("team", "=", team).where("name", "=", name).executeTakeFirst();
    return row && fromRow(row);
  }

  async upsert(input: ConnectionInput, now: number): Promise<void> {
    const values = {
      kind: input.kind,
      description: input.description,
      settings: JSON.stringify(input.settings),
      secretRefs: JSON.stringify(input.secretRefs),
      updatedAt: now,
    };
    await this.db
      .insertInto("connections")
      .values({ team: input.team, name: input.name, ...values, createdAt: now })
      .onConflict((oc) => oc.columns(["team", "name"]).doUpdateSet(values))
      .execute();
  }

  async delete(team: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom("connections").where("team", "=", team).where("name", "=", name).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}

function fromRow(row: Database["connections"]): StoredConnection {
  return {
    ...row,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    secretRefs: JSON.parse(row.secretRefs) as Record<string, string>,
  };
}
