/** Runs: list with filters and paging, one run, trigger with typed params, backfill, cancel. */
import { z } from "zod";
import { backfillRuns, cancelRun, getRun, listRuns, triggerRun } from "../../operations/index.js";
import { RunStateSchema, RunSummarySchema, RunViewSchema } from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors, errorSchema, id, pipelineParams, plainJsonSerializer, queryInt, runParams, type ApiServer } from "../schemas.js";

const isoDateTime = z.iso.datetime({ offset: true });
const params = z.record(z.string(), z.unknown()).describe("Values of the pipeline's declared params, checked against their types");

export function runRoutes(app: ApiServer, ctx: RouteContext): void {
  const { access, operations } = ctx;

  app.get(
    "/api/runs",
    {
      ...plainJsonSerializer,
      schema: {
        tags: ["runs"],
        summary: "Runs of the caller's teams, newest logical date first; view=summary gives task counts per state instead of every task",
        security: authenticated,
        querystring: z.strictObject({
          pipeline: id.optional(),
          state: RunStateSchema.optional(),
          limit: queryInt(1, 1000).default(100),
          offset: queryInt(0, 10_000_000).default(0),
          view: z.enum(["full", "summary"]).default("full"),
        }),
        response: { 200: z.object({ total: z.int(), runs: z.array(z.union([RunViewSchema, RunSummarySchema])).describe("RunView items (view=full) or RunSummary items (view=summary)") }), ...authErrors },
      },
    },
    async (request) => {
      const { view, ...filter } = request.query;
      const visible = await access.visiblePipelineIds(principalOf(request));
      return listRuns(operations, filter, visible, view);
    },
  );

  app.get(
    "/api/runs/:run",
    { schema: { tags: ["runs"], summary: "A run with every task's state and tries, in task order", security: authenticated, params: runParams, response: { 200: RunViewSchema, ...authErrors } } },
    async (request) => {
      const { team } = await access.run(principalOf(request), request.params.run, "read");
      return { ...(await getRun(operations, request.params.run)), team };
    },
  );

  app.post(
    "/api/runs/:run/cancel",
    { schema: { tags: ["runs"], summary: "Cancel a run: running attempts are killed, unfinished tasks cancelled (editors)", security: authenticated, params: runParams, response: { 200: RunViewSchema, ...authErrors, 409: errorSchema } } },
    async (request) => {
      const { team } = await access.run(principalOf(request), request.params.run, { role: "editor", action: "cancel runs" });
      return { ...(await cancelRun(operations, request.params.run)), team };
    },
  );

  app.post(
    "/api/pipelines/:id/runs",
    {
      schema: {
        tags: ["runs"],
        summary: "Trigger a run; params are checked against the types the pipeline declares (editors)",
        security: authenticated,
        params: pipelineParams,
        body: z.strictObject({ params: params.optional(), logical_date: isoDateTime.optional(), note: z.string().max(2000).optional() }).optional(),
        response: { 201: RunViewSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const team = await access.pipeline(principal, request.params.id, { role: "editor", action: "trigger runs" });
      const run = await triggerRun(operations, request.params.id, request.body ?? {}, { trigger: "api", createdBy: principal.username });
      void reply.status(201);
      return { ...run, team };
    },
  );

  app.post(
    "/api/pipelines/:id/backfill",
    {
      schema: {
        tags: ["runs"],
        summary: "Create runs for every data interval starting in [from, to] (editors)",
        security: authenticated,
        params: pipelineParams,
        body: z.strictObject({ from: isoDateTime, to: isoDateTime, params: params.optional() }),
        response: { 201: z.object({ created: z.array(z.string()), existing: z.array(z.string()).describe("Logical dates that already had a run") }), ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await access.pipeline(principal, request.params.id, { role: "editor", action: "backfill runs" });
      const result = await backfillRuns(operations, request.params.id, request.body, { createdBy: principal.username });
      void reply.status(201);
      return result;
    },
  );
}
