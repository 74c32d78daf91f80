/** API tokens: named, revocable, with an optional expiry; looked up by the SHA-256 of the secret. */
import type { Kysely, Selectable } from "kysely";
import type { ApiTokensTable, Database } from "./schema.js";

export type ApiToken = Selectable<ApiTokensTable>;

export class TokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(token: ApiToken): Promise<void> {
    await this.db.insertInto("apiTokens").values(token).execute();
  }

  async findByHash(tokenHash: string): Promise<ApiToken | undefined> {
    return this.db.selectFrom("apiTokens").selectAll().where("tokenHash", "=", tokenHash).executeTakeFirst();
  }

  async get(id: string): Promise<ApiToken | undefined> {
    return this.db.selectFrom("apiTokens").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** Tokens of one user (or of everyone), newest first. */
  async list(username?: string): Promise<ApiToken[]> {
    let query = this.db.selectFrom("apiTokens").selectAll();
    if (username !== undefined) query = query.where("username", "=", username);
    return query.orderBy("createdAt", "desc").orderBy("id").execute();
  }

  /** Marks a token revoked; false when it was unknown or already revoked. */
  async revoke(id: string, now: number): Promise<boolean> {
    const result = await this.db.updateTable("apiTokens").set({ revokedAt: now }).where("id", "=", id).where("revokedAt", "is", null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Revokes the user's live tokens with this name; returns how many. */
  async revokeNamed(username: string, name: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable("apiTokens")
      .set({ revokedAt: now })
      .where("username", "=", username)
      .where("name", "=", name)
      .where("revokedAt", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Revokes every live token of a user; returns how many. */
  async revokeForUser(username: string, now: number): Promise<number> {
    const result = await this.db.updateTable("apiTokens").set({ revokedAt: now }).where("username", "=", username).where("revokedAt", "is", null).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.updateTable("apiTokens").set({ lastUsedAt: now }).where("id", "=", id).execute();
  }
}
