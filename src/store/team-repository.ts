/** Teams and their members with a role each (viewer, editor, admin). */
import type { Kysely, Selectable } from "kysely";
import type { Database, TeamMembersTable, TeamsTable } from "./schema.js";

export type Team = Selectable<TeamsTable>;
export type TeamMember = Selectable<TeamMembersTable>;
export type TeamRole = TeamMember["role"];

export class TeamRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<Team[]> {
    return this.db.selectFrom("teams").selectAll().orderBy("name").execute();
  }

  async get(name: string): Promise<Team | undefined> {
    return this.db.selectFrom("teams").selectAll().where("name", "=", name).executeTakeFirst();
  }

  /** Creates the team; false when it exists. */
  async insert(team: Team): Promise<boolean> {
    const result = await this.db.insertInto("teams").values(team).onConflict((oc) => oc.column("name").doNothing()).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Deletes the team and its memberships (pipelines naming it stay, visible to admins only). */
  async delete(name: string): Promise<boolean> {
    await this.db.deleteFrom("teamMembers").where("team", "=", name).execute();
    const result = await this.db.deleteFrom("teams").where("name", "=", name).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async members(team: string): Promise<TeamMember[]> {
    return this.db.selectFrom("teamMembers").selectAll().where("team", "=", team).orderBy("username").execute();
  }

  async allMembers(): Promise<TeamMember[]> {
    return this.db.selectFrom("teamMembers").selectAll().orderBy("team").orderBy("username").execute();
  }

  /** The teams of one user with the role in each. */
  async membershipsOf(username: string): Promise<TeamMember[]> {
    return this.db.selectFrom("teamMembers").selectAll().where("username", "=", username).orderBy("team").execute();
  }

  /** Adds the member or changes the role. */
  async setMember(team: string, username: string, role: TeamRole, now: number): Promise<void> {
    await this.db
      .insertInto("teamMembers")
      .values({ team, username, role, createdAt: now })
      .onConflict((oc) => oc.columns(["team", "username"]).doUpdateSet({ role }))
      .execute();
  }

  async removeMember(team: string, username: string): Promise<boolean> {
    const result = await this.db.deleteFrom("teamMembers").where("team", "=", team).where("username", "=", username).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
