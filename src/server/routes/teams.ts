/** Teams and their members: everyone sees their own teams, team admins manage members, admins create and delete teams. */
import type { FastifyInstance } from "fastify";
import { TEAM_ROLES, type TeamRole } from "../../auth/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { notFound } from "../errors.js";
import { authenticated, authErrors, errorSchema, noContent, teamNameSchema, teamParams } from "../schemas.js";

const teamSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    description: { type: ["string", "null"] },
    role: { type: ["string", "null"] },
    pipelines: { type: "array", items: { type: "string" } },
    members: { type: "array", items: { type: "object", properties: { username: { type: "string" }, role: { type: "string" } } } },
  },
} as const;

export function teamRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    "/api/teams",
    {
      schema: {
        tags: ["teams"],
        summary: "Teams of the caller (admins: all, including teams that pipelines name but nobody belongs to); members are listed to team admins",
        security: authenticated,
        response: { 200: { type: "object", properties: { teams: { type: "array", items: teamSchema } } }, ...authErrors },
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

  app.post<{ Body: { name: string; description?: string } }>(
    "/api/teams",
    {
      schema: {
        tags: ["teams"],
        summary: "Create a team (admins)",
        security: authenticated,
        body: { type: "object", required: ["name"], additionalProperties: false, properties: { name: teamNameSchema, description: { type: "string", maxLength: 500 } } },
        response: { ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      principalOf(request).requireAdmin("create teams");
      await ctx.auth.createTeam(request.body.name, request.body.description ?? null);
      void reply.status(201);
      return { name: request.body.name, description: request.body.description ?? null };
    },
  );

  app.delete<{ Params: { team: string } }>(
    "/api/teams/:team",
    { schema: { tags: ["teams"], summary: "Delete a team and its memberships (admins); its pipelines stay, seen by admins only", security: authenticated, params: teamParams, response: { ...noContent, ...authErrors } } },
    async (request, reply) => {
      principalOf(request).requireAdmin("delete teams");
      await ctx.auth.deleteTeam(request.params.team);
      void reply.status(204);
    },
  );

  app.put<{ Params: { team: string; username: string }; Body: { role: TeamRole } }>(
    "/api/teams/:team/members/:username",
    {
      schema: {
        tags: ["teams"],
        summary: "Add a member or change the role (team admins and admins)",
        security: authenticated,
        params: { type: "object", required: ["team", "username"], additionalProperties: false, properties: { team: { type: "string", minLength: 1, maxLength: 63 }, username: { type: "string", minLength: 1, maxLength: 63 } } },
        body: { type: "object", required: ["role"], additionalProperties: false, properties: { role: { type: "string", enum: [...TEAM_ROLES] } } },
        response: { ...authErrors },
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

  app.delete<{ Params: { team: string; username: string } }>(
    "/api/teams/:team/members/:username",
    {
      schema: {
        tags: ["teams"],
        summary: "Remove a member (team admins and admins); takes effect at once",
        security: authenticated,
        params: { type: "object", required: ["team", "username"], additionalProperties: false, properties: { team: { type: "string", minLength: 1, maxLength: 63 }, username: { type: "string", minLength: 1, maxLength: 63 } } },
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
