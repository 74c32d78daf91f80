/**
 * Authentication of every API request, and CSRF protection of the browser's mutating requests.
 *
 * A request proves who it is with `Authorization: Bearer <token>` (scripts, the CLI) or with the
 * session cookie (the browser). Routes marked `config: { public: true }` (health, sign-in) need
 * neither. A mutating request that rides on the session cookie must come from this origin (Origin
 * and Sec-Fetch-Site checked when the browser sends them) and carry the session's CSRF token in
 * `X-CSRF-Token`; bearer tokens are never sent by browsers on their own, so they need no CSRF token.
 */
import type {} from "@fastify/cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { safeEqual, type Principal } from "../auth/index.js";
import type { RouteContext } from "./context.js";
import { HttpError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Who the request acts as; set on every authenticated API request. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Reachable without a credential (health, sign-in). */
    public?: boolean;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Cookie names: `__Host-` prefixed (Secure, Path=/, no Domain) when served over HTTPS. */
export function sessionCookieName(request: FastifyRequest): string {
  return request.protocol === "https" ? "__Host-capstan_session" : "capstan_session";
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, secret: string, expiresAt: number): void {
  void reply.setCookie(sessionCookieName(request), secret, {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    secure: request.protocol === "https",
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  void reply.clearCookie(sessionCookieName(request), { path: "/", httpOnly: true, sameSite: "strict", secure: request.protocol === "https" });
}

/** The principal of an authenticated request (route handlers call this; the hook has already refused the rest). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HttpError(401, "unauthenticated", "sign in or send an API token: Authorization: Bearer <token>");
  return request.principal;
}

/**
 * Refuses a browser request that comes from another site: the Origin header (when sent) must be
 * this server's origin, and Sec-Fetch-Site (when sent) must say same-origin.
 */
export function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const expected = `${request.protocol}://${request.host}`;
    if (origin !== expected) throw new HttpError(403, "cross_site_request", `requests from ${origin} are refused: only pages of ${expected} may change things with the session cookie`);
  }
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new HttpError(403, "cross_site_request", `a ${String(site)} request is refused: only pages of this server may change things with the session cookie`);
  }
}

function unauthenticated(message: string): HttpError {
  return new HttpError(401, "unauthenticated", message);
}

/** Adds the authentication hook to the app. */
export function registerAuthHook(app: FastifyInstance, ctx: RouteContext): void {
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request, reply) => {
    if (!request.url.startsWith("/api/") && request.url !== "/api") return;
    const mutating = !SAFE_METHODS.has(request.method);
    if (request.routeOptions.config.public) {
      if (mutating) assertSameOrigin(request);
      return;
    }
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match?.[1]) {
        void reply.header("www-authenticate", 'Bearer realm="capstan"');
        throw unauthenticated("the Authorization header must be: Bearer <token>");
      }
      const principal = await ctx.auth.authenticateToken(match[1]);
      if (!principal) {
        void reply.header("www-authenticate", 'Bearer realm="capstan", error="invalid_token"');
        throw unauthenticated("the API token is unknown, revoked or expired; create a new one under Account → API tokens or with `capstan login`");
      }
      request.principal = principal;
      return;
    }
    const cookie = request.cookies[sessionCookieName(request)];
    const principal = cookie ? await ctx.auth.authenticateSession(cookie) : undefined;
    if (!principal) {
      void reply.header("www-authenticate", 'Bearer realm="capstan"');
      throw unauthenticated(cookie ? "the session has ended; sign in again" : "sign in or send an API token: Authorization: Bearer <token>");
    }
    if (mutating) {
      assertSameOrigin(request);
      const sent = request.headers["x-csrf-token"];
      if (typeof sent !== "string" || principal.csrfToken === undefined || !safeEqual(sent, principal.csrfToken)) {
        throw new HttpError(403, "csrf_token_missing", "a request that changes something with the session cookie must send the session's CSRF token in X-CSRF-Token (it is in the answer of sign-in and of GET /api/auth/me)");
      }
    }
    request.principal = principal;
  });
}
