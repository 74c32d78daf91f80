/** Pipelines: list with recent runs and broken files, one pipeline with its spec, versions, the runs × tasks grid, pause. */
import type { FastifyInstance } from "fastify";
import { pipelineSummary } from "../../platform/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { notFound } from "../errors.js";
import { LoadErrorTeams } from "../load-error-team.js";
import { authenticated, authErrors, pipelineParams, plainJsonSerializer } from "../schemas.js";
import { buildGrid } from "../views/grid.js";

const summarySchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    team: { type: "string" },
    description: { type: ["string", "null"] },
    schedule: { type: ["string", "null"] },
    version: { type: "string" },
    file: { type: "string" },
    paused: { type: "boolean" },
    tasks: { type: "integer" },
    last_runs: { type: "array", items: { type: "object", properties: { id: { type: "string" }, state: { type: "string" }, logical_date: { type: "string" } } } },
  },
} as const;

export function pipelineRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { platform, access } = ctx;
  const loadErrorTeams = new LoadErrorTeams();

  app.get(
    "/api/pipelines",
    {
      schema: {
        tags: ["pipelines"],
        summary: "Pipelines of the caller's teams with their last 10 runs, and pipeline files that failed to load",
        security: authenticated,
        response: {
          200: {
            type: "object",
            properties: {
              pipelines: { type: "array", items: summarySchema },
              errors: { type: "array", items: { type: "object", properties: { file: { type: "string" }, message: { type: "string" }, pipeline: { type: ["string", "null"] }, issues: {} } } },
            },
          },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const visible = access.visibleLoaded(principal);
      const [rows, latest, loadErrors] = await Promise.all([
        platform.store.pipelines.list(),
        platform.store.grid.latestRuns(
          visible.map((p) => p.spec.id),
          10,
        ),
        platform.store.pipelines.listLoadErrors(),
      ]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const pipelines = visible.map((loaded) => pipelineSummary(loaded, byId.get(loaded.spec.id)?.paused === 1, latest.get(loaded.spec.id) ?? []));
      // A file's error shows its paths and text: only to those who may see the file's team (see load-error-team.ts).
      const errors = [];
      for (const e of loadErrors) {
        const team = await loadErrorTeams.teamOf(e.file, rows);
        if (team === undefined ? !principal.isAdmin : !principal.canRead(team)) continue;
        const owner = rows.filter((r) => r.file === e.file).sort((a, b) => b.updatedAt - a.updatedAt)[0];
        errors.push({ file: e.file, message: e.message, issues: e.issues, pipeline: owner?.id ?? e.pipelineId ?? null });
      }
      return { pipelines, errors };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/pipelines/:id",
    { schema: { tags: ["pipelines"], summary: "A pipeline: summary, normalised spec (tasks, params with types) and source", security: authenticated, params: pipelineParams, response: { ...authErrors } } },
    async (request) => {
      const principal = principalOf(request);
      await access.pipeline(principal, request.params.id, "read");
      const loaded = platform.registry.get(request.params.id);
      if (!loaded) throw notFound("pipeline", request.params.id);
      const [row, latest] = await Promise.all([platform.store.pipelines.get(loaded.spec.id), platform.store.grid.latestRuns([loaded.spec.id], 10)]);
      return {
        ...pipelineSummary(loaded, row?.paused === 1, latest.get(loaded.spec.id) ?? []),
        spec: loaded.spec,
        source: loaded.source,
        can_edit: principal.canEdit(loaded.spec.team),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/pipelines/:id/versions",
    { schema: { tags: ["pipelines"], summary: "Versions of a pipeline (content hashes), newest first", security: authenticated, params: pipelineParams, response: { ...authErrors } } },
    async (request) => {
      await access.pipeline(principalOf(request), request.params.id, "read");
      const versions = await platform.store.pipelines.listVersions(request.params.id);
      return { versions: versions.map((v) => ({ version: v.version, file: v.file, created_at: new Date(v.createdAt).toISOString() })) };
    },
  );

  app.get<{ Params: { id: string; version: string } }>(
    "/api/pipelines/:id/versions/:version",
    {
      schema: {
        tags: ["pipelines"],
        summary: "One version of a pipeline with the spec and source it had (what a run pinned)",
        security: authenticated,
        params: { type: "object", required: ["id", "version"], additionalProperties: false, properties: { id: pipelineParams.properties.id, version: { type: "string", minLength: 1, maxLength: 200 } } },
        response: { ...authErrors },
      },
    },
    async (request) => {
      await access.pipeline(principalOf(request), request.params.id, "read");
      const version = await platform.store.pipelines.getVersion(request.params.id, request.params.version);
      if (!version) throw notFound("version", request.params.version);
      return { pipeline: version.pipelineId, version: version.version, file: version.file, created_at: new Date(version.createdAt).toISOString(), spec: JSON.parse(version.spec) as unknown, source: version.source };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; offset?: number } }>(
    "/api/pipelines/:id/grid",
    {
      ...plainJsonSerializer,
      schema: {
        tags: ["pipelines"],
        summary: "The runs × tasks grid: the latest runs (newest first) with the state and tries of every task, in task order",
        security: authenticated,
        params: pipelineParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { limit: { type: "integer", minimum: 1, maximum: 100, default: 25 }, offset: { type: "integer", minimum: 0, maximum: 10_000_000, default: 0 } },
        },
        response: {
          200: {
            type: "object",
            properties: {
              pipeline: { type: "string" },
              total: { type: "integer" },
              tasks: { type: "array", items: { type: "object", properties: { id: { type: "string" }, kind: { type: "string" }, depends_on: { type: "array", items: { type: "string" } } } } },
              runs: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    id: { type: "string" },
                    state: { type: "string" },
                    trigger: { type: "string" },
                    version: { type: "string" },
                    logical_date: { type: "string" },
                    started_at: { type: ["string", "null"] },
                    ended_at: { type: ["string", "null"] },
                    states: { type: "array", items: { type: "string" } },
                    tries: { type: "array", items: { type: "integer" } },
                  },
                },
              },
            },
          },
          ...authErrors,
        },
      },
    },
    async (request) => {
      await access.pipeline(principalOf(request), request.params.id, "read");
      return buildGrid(platform, request.params.id, request.query.limit ?? 25, request.query.offset ?? 0);
    },
  );

  app.put<{ Params: { id: string }; Body: { paused: boolean } }>(
    "/api/pipelines/:id/paused",
    {
      schema: {
        tags: ["pipelines"],
        summary: "Pause or resume a pipeline's schedule (editors)",
        security: authenticated,
        params: pipelineParams,
        body: { type: "object", required: ["paused"], additionalProperties: false, properties: { paused: { type: "boolean" } } },
        response: { ...authErrors },
      },
    },
    async (request) => {
      await access.pipeline(principalOf(request), request.params.id, { role: "editor", action: "pause or resume pipelines" });
      if (!(await platform.store.pipelines.setPaused(request.params.id, request.body.paused, Date.now()))) throw notFound("pipeline", request.params.id);
      platform.scheduler.pipelinesChanged();
      return { id: request.params.id, paused: request.body.paused };
    },
  );
}
