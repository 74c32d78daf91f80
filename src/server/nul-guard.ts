/**
 * Refuses a NUL byte (U+0000) anywhere in an API request's path parameters, query or JSON body, with
 * a 400 that names the field. No text Capstan keeps or passes on can hold one: environment variables
 * and command lines end at it (a secret value becomes a task's environment), file paths refuse it,
 * and PostgreSQL's text does not store it. The values of a trigger's or backfill's `params` are left
 * to the pipeline's param checks, which answer `invalid_param` naming the param.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "./errors.js";
import { isApiRequest } from "./request-path.js";

const NUL = "\u0000";

/** The path (`data.token`, `ids[2]`) of the first string or key holding a NUL, or undefined. */
export function nulPath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === "string") return value.includes(NUL) ? path : undefined;
  if (depth > 64 || value === null || typeof value !== "object") return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulPath(item, `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path === "" ? key : `${path}.${key}`;
    if (key.includes(NUL)) return at;
    const found = nulPath(item, at, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function refuse(where: string, field: string): HttpError {
  const shown = JSON.stringify(field.replaceAll(NUL, "\\0"));
  return new HttpError(
    400,
    "invalid_request",
    `${where} ${shown}: the text contains a NUL byte (U+0000), which no field accepts (environment variables, paths and the database cannot hold it); remove it`,
    { field, in: where.split(" ")[0] },
  );
}

/** Checks one request (an API request with a parsed body); throws the 400. */
export function checkNoNul(request: FastifyRequest): void {
  const params = nulPath(request.params, "");
  if (params !== undefined) throw refuse("path parameter", params);
  const query = nulPath(request.query, "");
  if (query !== undefined) throw refuse("query parameter", query);
  let body: unknown = request.body;
  // Trigger and backfill params are checked by the pipeline's param rules (invalid_param naming the param).
  if (body !== null && typeof body === "object" && !Array.isArray(body) && "params" in body) {
    const { params: _params, ...rest } = body as Record<string, unknown>;
    body = rest;
  }
  const field = nulPath(body, "");
  if (field !== undefined) throw refuse("body field", field);
}

/** Adds the check to every API request, after the body is parsed and before the schema is applied. */
export function registerNulGuard(app: FastifyInstance): void {
  app.addHook("preValidation", (request, _reply, done) => {
    if (!isApiRequest(request)) return done();
    try {
      checkNoNul(request);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}
