/** The HTTP API server and the web UI it serves. */
export { buildServer, DEFAULT_WEB_ROOT, routesOf, type RouteInfo } from "./app.js";
export type { ServerContext, ServerOptions } from "./context.js";
export { HttpError } from "./errors.js";
export { openApiDocument } from "./openapi-document.js";
