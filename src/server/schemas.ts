/**
 * Zod schemas shared by route modules — path parameters, paging, the error answer, answers without
 * a body — and the Fastify instance type whose routes take them. A route's zod schemas are its
 * request types, its validation, its answer's check and its part of the OpenAPI document.
 */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { TEAM_PATTERN, USERNAME_PATTERN } from "../auth/index.js";

/** The server as route modules see it: zod schemas type each route's request and answer. */
export type ApiServer = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** Ids of pipelines and tasks as pipeline files allow them. */
export const id = z.string().min(1).max(200);
/** Run ids. */
export const runId = z.string().min(1).max(300);
/** A username or team name as a path or query value (the pattern is checked where one is created). */
export const accountName = z.string().min(1).max(63);

export const pipelineParams = z.strictObject({ id });
export const runParams = z.strictObject({ run: runId });
export const taskParams = z.strictObject({ run: runId, task: id });
export const usernameParams = z.strictObject({ username: accountName });
export const teamParams = z.strictObject({ team: accountName });
export const usernameSchema = z.string().regex(new RegExp(USERNAME_PATTERN)).max(63);
export const teamNameSchema = z.string().regex(new RegExp(TEAM_PATTERN)).max(63);

/** An integer in a query string (query values arrive as text). */
export function queryInt(min: number, max: number) {
  return z.coerce.number<string | number>().int().min(min).max(max);
}

/** A boolean in a query string: true or false. */
export const queryBoolean = z.enum(["true", "false"]).transform((text) => text === "true");

/** The error answer of every route. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe("Stable, for programs: not_found, invalid_request, invalid_param, conflict, forbidden, unauthenticated, …"),
      message: z.string().describe("For people: what was wrong and, where it helps, what to do"),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: "Error" });

/** Error answers that any authenticated route may give. */
export const authErrors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema } as const;

/** The security requirement of authenticated routes, for the OpenAPI document. */
export const authenticated: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { sessionCookie: [] }];

/** The answer of routes that return nothing. */
export const noContent = { 204: z.undefined().describe("Done; no body") } as const;

/** An answer that is not JSON (a stream, a file, a page), documented by its media type. */
export function mediaAnswer(mediaType: string, description: string) {
  return { description, content: { [mediaType]: { schema: z.string() } } };
}

/**
 * For routes with large answers: the response schemas still type and document them, but the
 * answer is written with JSON.stringify, unchecked, which is several times faster for thousands
 * of map entries.
 */
export const plainJsonSerializer = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) } as const;
