/** Teams and their members: everyone sees their own teams, team admins manage members, admins create and delete teams. */
import { z } from "zod";
import { TEAM_ROLES } from "../../auth/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { notFound } from "../errors.js";
import { accountName, authenticated, authErrors, errorSchema, noContent, teamNameSchema, teamParams, type ApiServer } from "../schemas.js";

const role = z.enum(TEAM_ROLES);

export const TeamSchema = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    role: role.nullable().describe("The caller's role in the team"),
    pipelines: z.array(z.string()),
    members: z.array(z.object({ username: z.string(), role })).optional().describe("Listed to the team's admins"),
  })
  .meta({ id: "Team" });

const memberParams = z.strictObject({ team: accountName, username: accountName });

export function teamRoutes(app: ApiServer, ctx: RouteContext): void {
  app.get(
    "/api/teams",
    {
      schema: {
        tags: ["teams"],
        summary: "Teams of the caller (admins: all, including teams that pipelines name but nobody belongs to); members are listed to team admins",
        security: authenticated,
        response: { 200: z.object({ teams: z.array(TeamSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const [records, members] = await Promise.all([ctx.auth.listTeams(), ctx.auth.allMembers()]);
      const names = new Set(records.map((t) => t.name));
      const pipelinesByTeam = new Map<string, string[]>();
      for (const loaded of ctx.platform.registry.list()) {
        names.add(loaded.spec.team);
        pipelinesByTeam.set(loaded.spec.team, [...(pipelinesByTeam.get(loaded.spec.team) ?? []), loaded.spec.id]);
      }
      for (const m of members) names.add(m.team);
      const descriptions = new Map(records.map((t) => [t.name, t.description]));
      const teams = [...names]
        .filter((name) => principal.canRead(name))
        .sort()
        .map((name) => ({
          name,
          description: descriptions.get(name) ?? null,
          role: principal.roles.get(name) ?? null,
          pipelines: pipelinesByTeam.get(name) ?? [],
          ...(principal.canManage(name) ? { members: members.filter((m) => m.team === name).map((m) => ({ username: m.username, role: m.role })) } : {}),
        }));
      return { teams };
    },
  );

  app.post(
    "/api/teams",
    {
      schema: {
        tags: ["teams"],
        summary: "Create a team (admins)",
        security: authenticated,
        body: z.strictObject({ name: teamNameSchema, description: z.string().max(500).optional() }),
        response: { 201: z.object({ name: z.string(), description: z.string().nullable() }), ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      principalOf(request).requireAdmin("create teams");
      await ctx.auth.createTeam(request.body.name, request.body.description ?? null);
      void reply.status(201);
      return { name: request.body.name, description: request.body.description ?? null };
    },
  );

  app.delete(
    "/api/teams/:team",
    { schema: { tags: ["teams"], summary: "Delete a team and its memberships (admins); its pipelines stay, seen by admins only", security: authenticated, params: teamParams, response: { ...noContent, ...authErrors } } },
    async (request, reply) => {
      principalOf(request).requireAdmin("delete teams");
      await ctx.auth.deleteTeam(request.params.team);
      void reply.status(204);
    },
  );

  app.put(
    "/api/teams/:team/members/:username",
    {
      schema: {
        tags: ["teams"],
        summary: "Add a member or change the role (team admins and admins)",
        security: authenticated,
        params: memberParams,
        body: z.strictObject({ role }),
        response: { 200: z.object({ team: z.string(), username: z.string(), role }), ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team, username } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "admin", "manage the team's members");
      await ctx.auth.setMember(team, username, request.body.role);
      return { team, username, role: request.body.role };
    },
  );

  app.delete(
    "/api/teams/:team/members/:username",
    {
      schema: {
        tags: ["teams"],
        summary: "Remove a member (team admins and admins); takes effect at once",
        security: authenticated,
        params: memberParams,
        response: { ...noContent, ...authErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { team, username } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "admin", "manage the team's members");
      await ctx.auth.removeMember(team, username);
      void reply.status(204);
    },
  );
}
