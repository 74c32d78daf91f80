/** Users: people who sign in and service accounts that use API tokens only. */
import type { Kysely, Selectable, Updateable } from "kysely";
import type { Database, UsersTable } from "./schema.js";

export type User = Selectable<UsersTable>;
export type NewUser = Omit<User, "updatedAt">;

export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(username: string): Promise<User | undefined> {
    return this.db.selectFrom("users").selectAll().where("username", "=", username).executeTakeFirst();
  }

  async list(): Promise<User[]> {
    return this.db.selectFrom("users").selectAll().orderBy("username").execute();
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Inserts a user; false (inserting nothing) when the username is taken. */
  async insert(user: NewUser): Promise<boolean> {
    const result = await this.db
      .insertInto("users")
      .values({ ...user, updatedAt: user.createdAt })
      .onConflict((oc) => oc.column("username").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async update(username: string, patch: Omit<Updateable<UsersTable>, "username" | "createdAt">): Promise<boolean> {
    const result = await this.db.updateTable("users").set(patch).where("username", "=", username).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Deletes the user with its memberships, tokens and sessions. */
  async delete(username: string): Promise<boolean> {
    await this.db.deleteFrom("teamMembers").where("username", "=", username).execute();
    await this.db.deleteFrom("apiTokens").where("username", "=", username).execute();
    await this.db.deleteFrom("sessions").where("username", "=", username).execute();
    const result = await this.db.deleteFrom("users").where("username", "=", username).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
