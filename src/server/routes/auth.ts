/** Sign-in and sign-out, the current user, password changes, and exchanging a password for an API token (`capstan login`). */
import type { FastifyInstance } from "fastify";
import { AuthenticationError, type Principal } from "../../auth/index.js";
import { clearSessionCookie, principalOf, setSessionCookie } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { HttpError } from "../errors.js";
import { authenticated, authErrors, errorSchema, noContent } from "../schemas.js";
import { tokenExpiry } from "./tokens.js";

/** The signed-in user as the UI and `GET /api/auth/me` see it. */
export function meView(principal: Principal) {
  return {
    username: principal.username,
    display_name: principal.displayName,
    admin: principal.isAdmin,
    kind: principal.kind,
    via: principal.via,
    teams: [...principal.roles].map(([team, role]) => ({ team, role })).sort((a, b) => a.team.localeCompare(b.team)),
    expires_at: principal.expiresAt === null ? null : new Date(principal.expiresAt).toISOString(),
    ...(principal.csrfToken !== undefined ? { csrf_token: principal.csrfToken } : {}),
  };
}

const credentials = {
  username: { type: "string", minLength: 1, maxLength: 100 },
  password: { type: "string", minLength: 1, maxLength: 1000 },
} as const;

const meSchema = {
  type: "object",
  properties: {
    username: { type: "string" },
    display_name: { type: ["string", "null"] },
    admin: { type: "boolean" },
    kind: { type: "string" },
    via: { type: "string", enum: ["session", "token"] },
    teams: { type: "array", items: { type: "object", properties: { team: { type: "string" }, role: { type: "string" } } } },
    expires_at: { type: ["string", "null"] },
    csrf_token: { type: "string" },
  },
} as const;

export function authRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: { username: string; password: string } }>(
    "/api/auth/login",
    {
      config: { public: true },
      schema: {
        tags: ["auth"],
        summary: "Sign in with a password: sets the session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token that mutating requests send in X-CSRF-Token",
        security: [],
        body: { type: "object", required: ["username", "password"], additionalProperties: false, properties: credentials },
        response: { 200: meSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const session = await ctx.auth.login(request.body.username, request.body.password, request.ip);
      setSessionCookie(request, reply, session.secret, session.expiresAt);
      return meView(session.principal);
    },
  );

  app.post<{ Body: { username: string; password: string; name: string; expires_in_days?: number } }>(
    "/api/auth/token",
    {
      config: { public: true },
      schema: {
        tags: ["auth"],
        summary: "Exchange a username and password for a new API token (what `capstan login` does); the token is shown once",
        security: [],
        body: {
          type: "object",
          required: ["username", "password", "name"],
          additionalProperties: false,
          properties: { ...credentials, name: { type: "string", minLength: 1, maxLength: 100 }, expires_in_days: { type: "integer", minimum: 1, maximum: 3650 } },
        },
        response: { 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const { username, password, name, expires_in_days } = request.body;
      const created = await ctx.auth.exchangePassword(username, password, request.ip, name, tokenExpiry(expires_in_days, ctx.auth.now()));
      void reply.status(201);
      return { id: created.id, name: created.name, username: created.username, token: created.token, created_at: new Date(created.createdAt).toISOString(), expires_at: created.expiresAt === null ? null : new Date(created.expiresAt).toISOString() };
    },
  );

  app.post(
    "/api/auth/logout",
    { schema: { tags: ["auth"], summary: "End the session of this request (with a bearer token: revoke that token)", security: authenticated, response: { ...noContent, ...authErrors } } },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.via === "token") await ctx.auth.revokeToken(principal, principal.credentialId);
      else await ctx.auth.logout(principal);
      clearSessionCookie(request, reply);
      void reply.status(204);
    },
  );

  app.get("/api/auth/me", { schema: { tags: ["auth"], summary: "The signed-in user, teams and roles; for sessions, the CSRF token", security: authenticated, response: { 200: meSchema, ...authErrors } } }, (request) =>
    meView(principalOf(request)),
  );

  app.post<{ Body: { current_password: string; new_password: string } }>(
    "/api/auth/password",
    {
      schema: {
        tags: ["auth"],
        summary: "Change one's own password; other sessions of the user end",
        security: authenticated,
        body: {
          type: "object",
          required: ["current_password", "new_password"],
          additionalProperties: false,
          properties: { current_password: { type: "string", minLength: 1, maxLength: 1000 }, new_password: { type: "string", minLength: 1, maxLength: 1000 } },
        },
        response: { ...noContent, ...authErrors, 429: errorSchema },
      },
    },
    async (request, reply) => {
      try {
        await ctx.auth.changePassword(principalOf(request), request.body.current_password, request.body.new_password, request.ip);
      } catch (error) {
        // A wrong current password is bad input here, not a lost session.
        if (error instanceof AuthenticationError) throw new HttpError(400, "wrong_password", "the current password is wrong", { field: "current_password" });
        throw error;
      }
      void reply.status(204);
    },
  );
}
