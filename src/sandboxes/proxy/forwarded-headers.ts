/**
 * What a sandbox's servers receive of a browser's request: Capstan's own cookies (the platform
 * session, the sandbox cookie) and `Authorization` are taken out, identity and forwarding headers
 * from the client are dropped and Capstan's are set, and the upstream token is added.
 */
import type { IncomingHttpHeaders } from "node:http";

/** Cookies Capstan sets; none of them reaches a sandbox. */
export const SANDBOX_COOKIE = "capstan_sandbox";
const CAPSTAN_COOKIES = new Set([SANDBOX_COOKIE, `__Host-${SANDBOX_COOKIE}`, "capstan_session", "__Host-capstan_session"]);

/** Headers a client could use to claim an identity or a route; never trusted, never forwarded. */
const IDENTITY_HEADERS = /^(x-capstan-.*|x-forwarded-.*|forwarded|x-real-ip|x-remote-user|x-auth-request-.*|remote-user|x-user|x-email|x-jupyterhub-.*)$/i;

/** The cookies of a Cookie header as name → value (the first of a name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** The Cookie header without Capstan's cookies (undefined when nothing is left). */
export function withoutCapstanCookies(header: string | undefined): string | undefined {
  const kept = (header ?? "")
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && !CAPSTAN_COOKIES.has(part.slice(0, Math.max(0, part.indexOf("="))).trim()));
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/** Rewrites `headers` in place for the upstream: the user Capstan vouches for, the upstream token, the upstream's own origin. */
export function rewriteForUpstream(headers: IncomingHttpHeaders, options: { owner: string; token: string; upstreamOrigin: string }): void {
  for (const name of Object.keys(headers)) if (IDENTITY_HEADERS.test(name)) delete headers[name];
  const cookie = withoutCapstanCookies(headers.cookie);
  if (cookie === undefined) delete headers.cookie;
  else headers.cookie = cookie;
  headers.authorization = `token ${options.token}`;
  headers["x-capstan-user"] = options.owner;
  // The proxy has checked the browser's Origin against the sandbox's; the upstream sees its own.
  if (headers.origin !== undefined) headers.origin = options.upstreamOrigin;
  delete headers.referer;
}
