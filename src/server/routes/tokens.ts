/** API tokens: list one's own (admins: anyone's), create (the secret is shown once), revoke. */
import { z } from "zod";
import type { ApiToken } from "../../store/token-repository.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { accountName, authenticated, authErrors, errorSchema, noContent, queryBoolean, usernameSchema, type ApiServer } from "../schemas.js";

/** The expiry of a token that lives `days` days from now; null when no lifetime is given. */
export function tokenExpiry(days: number | undefined, now: number): number | null {
  return days === undefined ? null : now + days * 24 * 3600_000;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A token as listed: never the secret, never its hash. */
export function tokenView(token: ApiToken, now = Date.now()): z.infer<typeof TokenSchema> {
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

export const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    username: z.string(),
    state: z.enum(["active", "expired", "revoked"]),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .meta({ id: "ApiToken" });

/** A token just created: the only answer that holds its secret. */
export const NewTokenSchema = TokenSchema.extend({ token: z.string().describe("The secret (capstan_…); shown in this answer only") }).meta({ id: "NewApiToken" });

export function tokenRoutes(app: ApiServer, ctx: RouteContext): void {
  app.get(
    "/api/tokens",
    {
      schema: {
        tags: ["tokens"],
        summary: "API tokens of the caller; admins may ask for another user's (user=NAME) or everyone's (all=true)",
        security: authenticated,
        querystring: z.strictObject({ user: accountName.optional(), all: queryBoolean.optional() }),
        response: { 200: z.object({ tokens: z.array(TokenSchema) }), ...authErrors },
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

  app.post(
    "/api/tokens",
    {
      schema: {
        tags: ["tokens"],
        summary: "Create an API token for the caller (admins: for any user, e.g. a service account); the secret is in this answer only",
        security: authenticated,
        body: z.strictObject({ name: z.string().min(1).max(100), expires_in_days: z.int().min(1).max(3650).optional(), username: usernameSchema.optional() }),
        response: { 201: NewTokenSchema, ...authErrors, 409: errorSchema },
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

  app.delete(
    "/api/tokens/:id",
    {
      schema: {
        tags: ["tokens"],
        summary: "Revoke a token at once",
        security: authenticated,
        params: z.strictObject({ id: z.string().min(1).max(100) }),
        response: { ...noContent, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      await ctx.auth.revokeToken(principalOf(request), request.params.id);
      void reply.status(204);
    },
  );
}
