/** JSON schemas shared by route modules: path parameters, paging, the error answer. They make the OpenAPI document. */
import { TEAM_PATTERN, USERNAME_PATTERN } from "../auth/index.js";

/** Ids of pipelines and tasks as pipeline files allow them. */
const ID = { type: "string", minLength: 1, maxLength: 200 } as const;

export const pipelineParams = { type: "object", required: ["id"], additionalProperties: false, properties: { id: ID } } as const;
export const runParams = { type: "object", required: ["run"], additionalProperties: false, properties: { run: { type: "string", minLength: 1, maxLength: 300 } } } as const;
export const taskParams = {
  type: "object",
  required: ["run", "task"],
  additionalProperties: false,
  properties: { run: { type: "string", minLength: 1, maxLength: 300 }, task: ID },
} as const;
export const usernameParams = { type: "object", required: ["username"], additionalProperties: false, properties: { username: { type: "string", minLength: 1, maxLength: 63 } } } as const;
export const teamParams = { type: "object", required: ["team"], additionalProperties: false, properties: { team: { type: "string", minLength: 1, maxLength: 63 } } } as const;
export const usernameSchema = { type: "string", pattern: USERNAME_PATTERN, maxLength: 63 } as const;
export const teamNameSchema = { type: "string", pattern: TEAM_PATTERN, maxLength: 63 } as const;

/** The error answer of every route. */
export const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
    },
  },
} as const;

/** Error answers that any authenticated route may give. */
export const authErrors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema } as const;

/** The security requirement of authenticated routes, for the OpenAPI document. */
export const authenticated: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { sessionCookie: [] }];

/** The answer of routes that return nothing. */
export const noContent = { 204: { type: "null", description: "Done; no body" } } as const;

/**
 * For routes with large answers: the response schemas still document them, but the answer is
 * written with JSON.stringify, which is several times faster than a compiled serializer for
 * thousands of map entries.
 */
export const plainJsonSerializer = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) } as const;
