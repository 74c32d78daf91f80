/** Sign-in and sign-out, the current user, password changes, and exchanging a password for an API token (`capstan login`). */
import { z } from "zod";
import { AuthenticationError, TEAM_ROLES, type Principal } from "../../auth/index.js";
import { clearSessionCookie, principalOf, setSessionCookie } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { HttpError } from "../errors.js";
import { authenticated, authErrors, errorSchema, noContent, type ApiServer } from "../schemas.js";
import { NewTokenSchema, tokenExpiry, tokenView } from "./tokens.js";

/** The signed-in user as the UI and `GET /api/auth/me` see it. */
export function meView(principal: Principal): z.infer<typeof MeSchema> {
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
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(1000),
};

export const MembershipSchema = z.object({ team: z.string(), role: z.enum(TEAM_ROLES) }).meta({ id: "Membership" });

export const MeSchema = z
  .object({
    username: z.string(),
    display_name: z.string().nullable(),
    admin: z.boolean(),
    kind: z.enum(["person", "service"]),
    via: z.enum(["session", "token"]),
    teams: z.array(MembershipSchema),
    expires_at: z.string().nullable().describe("When the session or token ends"),
    csrf_token: z.string().optional().describe("For sessions: send it as X-CSRF-Token with every request that changes something"),
  })
  .meta({ id: "Me" });

export function authRoutes(app: ApiServer, ctx: RouteContext): void {
  app.post(
    "/api/auth/login",
    {
      config: { public: true },
      schema: {
        tags: ["auth"],
        summary: "Sign in with a password: sets the session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token that mutating requests send in X-CSRF-Token",
        security: [],
        body: z.strictObject(credentials),
        response: { 200: MeSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const session = await ctx.auth.login(request.body.username, request.body.password, request.ip);
      setSessionCookie(request, reply, session.secret, session.expiresAt);
      return meView(session.principal);
    },
  );

  app.post(
    "/api/auth/token",
    {
      config: { public: true },
      schema: {
        tags: ["auth"],
        summary: "Exchange a username and password for a new API token (what `capstan login` does); the token is shown once",
        security: [],
        body: z.strictObject({ ...credentials, name: z.string().min(1).max(100), expires_in_days: z.int().min(1).max(3650).optional() }),
        response: { 201: NewTokenSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const { username, password, name, expires_in_days } = request.body;
      const created = await ctx.auth.exchangePassword(username, password, request.ip, name, tokenExpiry(expires_in_days, ctx.auth.now()));
      void reply.status(201);
      return { ...tokenView({ ...created, tokenHash: "", lastUsedAt: null, revokedAt: null }, ctx.auth.now()), token: created.token };
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

  app.get("/api/auth/me", { schema: { tags: ["auth"], summary: "The signed-in user, teams and roles; for sessions, the CSRF token", security: authenticated, response: { 200: MeSchema, ...authErrors } } }, (request) =>
    meView(principalOf(request)),
  );

  app.post(
    "/api/auth/password",
    {
      schema: {
        tags: ["auth"],
        summary: "Change one's own password; other sessions of the user end",
        security: authenticated,
        body: z.strictObject({ current_password: z.string().min(1).max(1000), new_password: z.string().min(1).max(1000) }),
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
