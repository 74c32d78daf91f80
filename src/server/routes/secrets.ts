/** Team secrets (task env from secret references): editors see names and keys, team admins set and delete them; values are write-only and never returned. */
import type { FastifyInstance } from "fastify";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { notFound } from "../errors.js";
import { authenticated, authErrors, noContent } from "../schemas.js";

const secretParams = {
  type: "object",
  required: ["team", "name"],
  additionalProperties: false,
  properties: { team: { type: "string", minLength: 1, maxLength: 63 }, name: { type: "string", minLength: 1, maxLength: 63 } },
} as const;

const summarySchema = { type: "object", properties: { team: { type: "string" }, name: { type: "string" }, keys: { type: "array", items: { type: "string" } }, updated_at: { type: "string" } } } as const;

export function secretRoutes(app: FastifyInstance, { platform }: RouteContext): void {
  const { secrets } = platform;

  app.get<{ Querystring: { team?: string } }>(
    "/api/secrets",
    {
      schema: {
        tags: ["secrets"],
        summary: "Names and keys of secrets, never values: of the teams where the caller is an editor or admin (admins: all); team=NAME for one team",
        security: authenticated,
        querystring: { type: "object", additionalProperties: false, properties: { team: { type: "string", minLength: 1, maxLength: 63 } } },
        response: { 200: { type: "object", properties: { secrets: { type: "array", items: summarySchema } } }, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team } = request.query;
      if (team !== undefined) {
        if (!principal.canRead(team)) throw notFound("team", team);
        principal.require(team, "editor", "see the team's secrets");
      }
      const list = await secrets.list(team);
      return {
        secrets: list.filter((s) => principal.canEdit(s.team)).map((s) => ({ team: s.team, name: s.name, keys: s.keys, updated_at: new Date(s.updatedAt).toISOString() })),
      };
    },
  );

  app.put<{ Params: { team: string; name: string }; Body: { data: Record<string, string> } }>(
    "/api/secrets/:team/:name",
    {
      schema: {
        tags: ["secrets"],
        summary: "Create or replace a secret (team admins); the values are write-only",
        security: authenticated,
        params: secretParams,
        body: {
          type: "object",
          required: ["data"],
          additionalProperties: false,
          properties: { data: { type: "object", minProperties: 1, maxProperties: 100, additionalProperties: { type: "string", maxLength: 65536 } } },
        },
        response: { 200: summarySchema, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team, name } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "admin", "set secrets");
      await secrets.set(team, name, request.body.data);
      return { team, name, keys: Object.keys(request.body.data), updated_at: new Date().toISOString() };
    },
  );

  app.delete<{ Params: { team: string; name: string } }>(
    "/api/secrets/:team/:name",
    { schema: { tags: ["secrets"], summary: "Delete a secret (team admins)", security: authenticated, params: secretParams, response: { ...noContent, ...authErrors } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const { team, name } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "admin", "delete secrets");
      if (!(await secrets.delete(team, name))) throw notFound("secret", name);
      void reply.status(204);
    },
  );
}
