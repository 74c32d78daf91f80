/** Browser sessions: keyed by the SHA-256 of the cookie's secret, each with its own CSRF token. */
import type { Kysely, Selectable } from "kysely";
import type { Database, SessionsTable } from "./schema.js";

export type Session = Selectable<SessionsTable>;

export class SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(session: Session): Promise<void> {
    await this.db.insertInto("sessions").values(session).execute();
  }

  async get(idHash: string): Promise<Session | undefined> {
    return this.db.selectFrom("sessions").selectAll().where("idHash", "=", idHash).executeTakeFirst();
  }

  async delete(idHash: string): Promise<boolean> {
    const result = await this.db.deleteFrom("sessions").where("idHash", "=", idHash).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Ends every session of a user, but `keep` (the one that asked, when given). */
  async deleteForUser(username: string, keep?: string): Promise<number> {
    let query = this.db.deleteFrom("sessions").where("username", "=", username);
    if (keep !== undefined) query = query.where("idHash", "!=", keep);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async touch(idHash: string, now: number): Promise<void> {
    await this.db.updateTable("sessions").set({ lastSeenAt: now }).where("idHash", "=", idHash).execute();
  }

  /** Removes sessions that expired before `now`. */
  async deleteExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom("sessions").where("expiresAt", "<", now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
