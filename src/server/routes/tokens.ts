/** API tokens: list one's own (admins: anyone's), create (the secret is shown once), revoke. */
import type { FastifyInstance } from "fastify";
import type { ApiToken } from "../../store/token-repository.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors, errorSchema, noContent, usernameSchema } from "../schemas.js";

/** The expiry of a token that lives `days` days from now; null when no lifetime is given. */
export function tokenExpiry(days: number | undefined, now: number): number | null {
  return days === undefined ? null : now + days * 24 * 3600_000;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A token as listed: never the secret, never its hash. */
export function tokenView(token: ApiToken, now = Date.now()) {
  const state = token.revokedAt !== null ? "revoked" : token.expiresAt !== null && token.expiresAt <= now ? "expired" : "active";
  return {
    id: token.id,
    name: token.name,
    username: token.username,
    state,
    created_at: new Date(token.createdAt).toISOString(),
    expires_at: iso(token.expiresAt),
    last_used_at: iso(token.lastUsedAt),
    revoked_at: iso(token.revokedAt),
  };
}

const tokenSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    username: { type: "string" },
    state: { type: "string", enum: ["active", "expired", "revoked"] },
    created_at: { type: "string" },
    expires_at: { type: ["string", "null"] },
    last_used_at: { type: ["string", "null"] },
    revoked_at: { type: ["string", "null"] },
  },
} as const;

export function tokenRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: { user?: string; all?: boolean } }>(
    "/api/tokens",
    {
      schema: {
        tags: ["tokens"],
        summary: "API tokens of the caller; admins may ask for another user's (user=NAME) or everyone's (all=true)",
        security: authenticated,
        querystring: { type: "object", additionalProperties: false, properties: { user: { type: "string", minLength: 1, maxLength: 63 }, all: { type: "boolean" } } },
        response: { 200: { type: "object", properties: { tokens: { type: "array", items: tokenSchema } } }, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { user, all } = request.query;
      if ((all || (user !== undefined && user !== principal.username)) && !principal.isAdmin) principal.requireAdmin("list other users' tokens");
      const tokens = await ctx.auth.listTokens(all ? undefined : (user ?? principal.username));
      const now = Date.now();
      return { tokens: tokens.map((t) => tokenView(t, now)) };
    },
  );

  app.post<{ Body: { name: string; expires_in_days?: number; username?: string } }>(
    "/api/tokens",
    {
      schema: {
        tags: ["tokens"],
        summary: "Create an API token for the caller (admins: for any user, e.g. a service account); the secret is in this answer only",
        security: authenticated,
        body: {
          type: "object",
          required: ["name"],
          additionalProperties: false,
          properties: { name: { type: "string", minLength: 1, maxLength: 100 }, expires_in_days: { type: "integer", minimum: 1, maximum: 3650 }, username: usernameSchema },
        },
        response: { 201: { type: "object", properties: { ...tokenSchema.properties, token: { type: "string" } } }, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const username = request.body.username ?? principal.username;
      if (username !== principal.username) {
        principal.requireAdmin("create tokens for other users");
        await ctx.auth.getUser(username);
      }
      const created = await ctx.auth.createToken(username, request.body.name, tokenExpiry(request.body.expires_in_days, ctx.auth.now()));
      void reply.status(201);
      return {
        ...tokenView({ ...created, tokenHash: "", lastUsedAt: null, revokedAt: null }),
        token: created.token,
      };
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/api/tokens/:id",
    {
      schema: {
        tags: ["tokens"],
        summary: "Revoke a token at once",
        security: authenticated,
        params: { type: "object", required: ["id"], additionalProperties: false, properties: { id: { type: "string", minLength: 1, maxLength: 100 } } },
        response: { ...noContent, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      await ctx.auth.revokeToken(principalOf(request), request.params.id);
      void reply.status(204);
    },
  );
}
