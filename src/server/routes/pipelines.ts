/** Pipelines: list with recent runs and broken files, one pipeline with its spec, versions, the runs × tasks grid, pause. */
import { z } from "zod";
import { listPipelines, pipelineDetail, pipelineGrid, pipelineTriggers, pipelineVersion, pipelineVersions, setPaused } from "../../operations/index.js";
import { GridSchema, PipelineDetailSchema, PipelineListSchema, PipelineTriggersSchema } from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors, id, pipelineParams, plainJsonSerializer, queryInt, type ApiServer } from "../schemas.js";
import { pipelineGitRoutes } from "./pipeline-git.js";

const versionFields = {
  version: z.string(),
  file: z.string(),
  commit: z.string().nullable().describe("The git commit the version was loaded from (pipelines.git); null for a file of a pipeline folder"),
  created_at: z.string(),
};

export function pipelineRoutes(app: ApiServer, ctx: RouteContext): void {
  const { access, operations } = ctx;
  pipelineGitRoutes(app, ctx);

  app.get(
    "/api/pipelines",
    {
      schema: {
        tags: ["pipelines"],
        summary: "Pipelines of the caller's teams with their last 10 runs, and pipeline files that failed to load",
        security: authenticated,
        response: { 200: PipelineListSchema, ...authErrors },
      },
    },
    async (request) => listPipelines(operations, principalOf(request)),
  );

  app.get(
    "/api/pipelines/:id",
    {
      schema: {
        tags: ["pipelines"],
        summary: "A pipeline: summary, normalised spec (tasks, params with types) and source",
        security: authenticated,
        params: pipelineParams,
        response: { 200: PipelineDetailSchema, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await access.pipeline(principal, request.params.id, "read");
      return pipelineDetail(operations, principal, request.params.id);
    },
  );

  app.get(
    "/api/pipelines/:id/versions",
    {
      schema: {
        tags: ["pipelines"],
        summary: "Versions of a pipeline (content hashes), newest first",
        security: authenticated,
        params: pipelineParams,
        response: { 200: z.object({ versions: z.array(z.object(versionFields)) }), ...authErrors },
      },
    },
    async (request) => {
      await access.pipeline(principalOf(request), request.params.id, "read");
      return pipelineVersions(operations, request.params.id);
    },
  );

  app.get(
    "/api/pipelines/:id/triggers",
    {
      schema: {
        tags: ["pipelines"],
        summary: "A pipeline's Kafka triggers: state since when, error, and per partition the committed offset, end offset and lag",
        security: authenticated,
        params: pipelineParams,
        response: { 200: PipelineTriggersSchema, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await access.pipeline(principal, request.params.id, "read");
      return pipelineTriggers(operations, principal, request.params.id);
    },
  );

  app.get(
    "/api/pipelines/:id/versions/:version",
    {
      schema: {
        tags: ["pipelines"],
        summary: "One version of a pipeline with the spec and source it had (what a run pinned)",
        security: authenticated,
        params: z.strictObject({ id, version: z.string().min(1).max(200) }),
        response: { 200: z.object({ pipeline: z.string(), ...versionFields, spec: z.record(z.string(), z.unknown()).describe("The normalised spec of that version"), source: z.string() }), ...authErrors },
      },
    },
    async (request) => {
      await access.pipeline(principalOf(request), request.params.id, "read");
      return pipelineVersion(operations, request.params.id, request.params.version);
    },
  );

  app.get(
    "/api/pipelines/:id/grid",
    {
      ...plainJsonSerializer,
      schema: {
        tags: ["pipelines"],
        summary: "The runs × tasks grid: the latest runs (newest first) with the state and tries of every task, in task order",
        security: authenticated,
        params: pipelineParams,
        querystring: z.strictObject({ limit: queryInt(1, 100).default(25), offset: queryInt(0, 10_000_000).default(0) }),
        response: { 200: GridSchema, ...authErrors },
      },
    },
    async (request) => {
      await access.pipeline(principalOf(request), request.params.id, "read");
      return pipelineGrid(operations, request.params.id, request.query.limit, request.query.offset);
    },
  );

  app.put(
    "/api/pipelines/:id/paused",
    {
      schema: {
        tags: ["pipelines"],
        summary: "Pause or resume a pipeline's schedule (editors)",
        security: authenticated,
        params: pipelineParams,
        body: z.strictObject({ paused: z.boolean() }),
        response: { 200: z.object({ id: z.string(), paused: z.boolean() }), ...authErrors },
      },
    },
    async (request) => {
      await access.pipeline(principalOf(request), request.params.id, { role: "editor", action: "pause or resume pipelines" });
      return setPaused(operations, request.params.id, request.body.paused);
    },
  );
}
