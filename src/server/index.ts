/** The HTTP API server. */
export { buildServer } from "./app.js";
export type { ServerContext } from "./context.js";
export { HttpError } from "./errors.js";
