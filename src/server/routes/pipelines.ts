/** Pipelines: list with recent runs and broken files, one pipeline with its spec, trigger, backfill. */
import type { FastifyInstance } from "fastify";
import { pipelineSummary, loadRunView } from "../../platform/index.js";
import type { ServerContext } from "../context.js";
import { HttpError } from "../errors.js";

const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 200 } } } as const;

export function pipelineRoutes(app: FastifyInstance, { platform }: ServerContext): void {
  app.get("/api/pipelines", { schema: { tags: ["pipelines"], summary: "Pipelines with their recent runs, and files that failed to load" } }, async () => {
    const rows = new Map((await platform.store.pipelines.list()).map((r) => [r.id, r]));
    const pipelines = [];
    for (const loaded of platform.registry.list()) {
      const runs = await platform.store.runs.list({ pipelineId: loaded.spec.id, limit: 10 });
      pipelines.push(pipelineSummary(loaded, rows.get(loaded.spec.id)?.paused === 1, runs));
    }
    const errors = (await platform.store.pipelines.listLoadErrors()).map((e) => ({ file: e.file, message: e.message, issues: e.issues }));
    return { pipelines, errors };
  });

  app.get<{ Params: { id: string } }>("/api/pipelines/:id", { schema: { tags: ["pipelines"], params: idParams } }, async (request) => {
    const loaded = platform.registry.get(request.params.id);
    if (!loaded) throw new HttpError(404, "not_found", `no pipeline ${JSON.stringify(request.params.id)}`);
    const row = await platform.store.pipelines.get(loaded.spec.id);
    const runs = await platform.store.runs.list({ pipelineId: loaded.spec.id, limit: 10 });
    return { ...pipelineSummary(loaded, row?.paused === 1, runs), spec: loaded.spec, source: loaded.source };
  });

  app.post<{ Params: { id: string }; Body: { params?: Record<string, unknown>; logical_date?: string; note?: string } }>(
    "/api/pipelines/:id/runs",
    {
      schema: {
        tags: ["runs"],
        summary: "Trigger a run with typed params",
        params: idParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: { params: { type: "object" }, logical_date: { type: "string", format: "date-time" }, note: { type: "string", maxLength: 2000 } },
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const run = await platform.scheduler.trigger(request.params.id, {
        params: body.params ?? {},
        trigger: "api",
        ...(body.logical_date ? { logicalDate: Date.parse(body.logical_date) } : {}),
        note: body.note ?? null,
      });
      void reply.status(201);
      return loadRunView(platform.store, run.id);
    },
  );

  app.post<{ Params: { id: string }; Body: { from: string; to: string; params?: Record<string, unknown> } }>(
    "/api/pipelines/:id/backfill",
    {
      schema: {
        tags: ["runs"],
        summary: "Create runs for every data interval starting in [from, to]",
        params: idParams,
        body: {
          type: "object",
          required: ["from", "to"],
          additionalProperties: false,
          properties: { from: { type: "string", format: "date-time" }, to: { type: "string", format: "date-time" }, params: { type: "object" } },
        },
      },
    },
    async (request, reply) => {
      const result = await platform.scheduler.backfill(request.params.id, Date.parse(request.body.from), Date.parse(request.body.to), { params: request.body.params ?? {} });
      void reply.status(201);
      return { created: result.created.map((r) => r.id), existing: result.existing };
    },
  );
}
