/**
 * Whether a request is an API request, decided the way the router sees it rather than on the raw
 * URL: the route that matched when one did, and otherwise the path as a browser or proxy might read
 * it (percent-decoded, slashes collapsed, dot segments resolved, any case). A spelling such as
 * `/%61pi/openapi.json` or `/API/../api/openapi.json` is therefore an API request like the plain one.
 */
import type { FastifyRequest } from "fastify";

/** Whether a path (already normalised, or a route pattern) is under /api, or is /metrics (Prometheus' default path, authenticated like the API). */
export function underApi(path: string): boolean {
  return path === "/api" || path.startsWith("/api/") || path === "/metrics";
}

/** Decodes every well-formed percent-escape, leaving malformed ones as they are. */
function decodeEscapes(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-9A-Fa-f]{2})/g, (_all, hex: string) => {
        const code = parseInt(hex, 16);
        return code < 0x80 ? String.fromCharCode(code) : `%${hex}`;
      });
    }
  });
}

/**
 * The path of a request URL in its most generous reading: query and fragment dropped, percent-escapes
 * decoded (repeatedly, for double encoding), backslashes read as slashes, `;` parameters dropped,
 * empty and `.` segments removed, `..` resolved, lower case.
 */
export function normalisedPath(url: string): string {
  const cut = url.search(/[?#]/);
  let path = cut >= 0 ? url.slice(0, cut) : url;
  for (let round = 0; round < 4; round++) {
    const decoded = decodeEscapes(path);
    if (decoded === path) break;
    path = decoded;
  }
  const segments: string[] = [];
  for (const raw of path.replace(/\\/g, "/").split("/")) {
    const segment = raw.split(";")[0] ?? "";
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join("/")}`.toLowerCase();
}

/** An API request: it matched a route under /api, or its path reads as one under /api however it is spelt. */
export function isApiRequest(request: FastifyRequest): boolean {
  const route = request.is404 ? undefined : request.routeOptions.url;
  if (route !== undefined && underApi(route)) return true;
  return underApi(normalisedPath(request.url));
}
