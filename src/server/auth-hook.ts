/**
 * Authentication of every API request, and CSRF protection of the browser's mutating requests.
 *
 * A request proves who it is with `Authorization: Bearer <token>` (scripts, the CLI) or with the
 * session cookie (the browser). Routes marked `config: { public: true }` (health, sign-in) need
 * neither. The decision is made on the route that matched, never on the raw URL: every spelling of
 * an API path (percent-escapes, `//`, `..`, upper case) that routes somewhere gets that route's rules,
 * and one that routes nowhere needs a credential before it learns that (see request-path.ts). A mutating request that rides on the session cookie must come from this origin (Origin
 * and Sec-Fetch-Site checked when the browser sends them) and carry the session's CSRF token in
 * `X-CSRF-Token`; bearer tokens are never sent by browsers on their own, so they need no CSRF token.
 */
import type {} from "@fastify/cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { safeEqual, type Principal } from "../auth/index.js";
import type { RouteContext } from "./context.js";
import { HttpError } from "./errors.js";
import { isApiRequest, underApi } from "./request-path.js";

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
    if (!isApiRequest(request)) return;
    const mutating = !SAFE_METHODS.has(request.method);
    const route = request.is404 ? undefined : request.routeOptions.url;
    // Public-ness comes from the route that will run; a URL that routes nowhere is never public.
    if (route !== undefined && underApi(route) && request.routeOptions.config.public === true) {
      if (mutating) assertSameOrigin(request);
      return;
    }
    request.principal = await authenticate(ctx, request, reply, mutating);
    // A path that reads as an API path but was caught by a page route (the UI's files) is no page.
    if (route !== undefined && !underApi(route)) throw new HttpError(404, "not_found", `no route ${request.method} ${request.url.split(/[?#]/)[0] ?? ""}`);
  });
}

/** The principal of a request's bearer token or session cookie (with the session's CSRF rules); throws 401 or 403. */
async function authenticate(ctx: RouteContext, request: FastifyRequest, reply: FastifyReply, mutating: boolean): Promise<Principal> {
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
    return principal;
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
  return principal;
}
