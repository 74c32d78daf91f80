/**
 * Names for the shapes the Capstan API answers with. Every one is the API's own schema, generated
 * from /api/openapi.json into openapi.gen.ts (`npm run gen:api`); nothing here restates a field.
 */
import type { components, paths } from "./openapi.gen.js";

type Schemas = components["schemas"];

export type RunState = Schemas["RunState"];
export type TaskState = Schemas["TaskState"];
export type Role = Schemas["Membership"]["role"];
export type Me = Schemas["Me"];
export type PipelineSummary = Schemas["PipelineSummary"];
export type LoadError = Schemas["LoadError"];
export type ParamSpec = Schemas["ParamSpec"];
export type PipelineDetail = Schemas["PipelineDetail"];
export type TaskView = Schemas["TaskView"];
export type RunView = Schemas["RunView"];
export type RunSummary = Schemas["RunSummary"];
export type Grid = Schemas["Grid"];
export type TaskDetail = Schemas["TaskDetail"];
export type LogChunk = Schemas["LogChunk"];
export type Pool = Schemas["Pool"];
export type SecretSummary = Schemas["SecretSummary"];
/** A token as listed; `token` (the secret) only in the answer that created it. */
export type ApiToken = Schemas["ApiToken"] & Partial<Pick<Schemas["NewApiToken"], "token">>;
export type User = Schemas["User"];
export type Team = Schemas["Team"];
/** A state change streamed from /api/events. */
export type ChangeEvent = Schemas["ChangeEvent"];

type JsonContent<T> = T extends { content: { "application/json": infer Body } } ? Body : never;

/** The JSON answer of an operation, e.g. `Answer<"/api/pools", "get">` (status 200 unless given). */
export type Answer<Path extends keyof paths, Method extends keyof paths[Path], Status extends number = 200> = paths[Path][Method] extends { responses: infer Responses }
  ? Status extends keyof Responses
    ? JsonContent<Responses[Status]>
    : never
  : never;

/** The JSON body an operation takes, e.g. `RequestBody<"/api/tokens", "post">`. */
export type RequestBody<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends { requestBody?: infer Body } ? JsonContent<NonNullable<Body>> : never;
