/** Runs: list with filters and paging, one run, trigger with typed params, backfill, cancel. */
import type { FastifyInstance } from "fastify";
import { loadRunView, runView } from "../../platform/index.js";
import { intervalsBetween } from "../../scheduler/index.js";
import { RUN_STATES, type RunState, type TaskInstance } from "../../store/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { HttpError, notFound } from "../errors.js";
import { redactRunViews } from "../views/redact-values.js";
import { authenticated, authErrors, errorSchema, pipelineParams, plainJsonSerializer, runParams } from "../schemas.js";

const taskViewSchema = {
  type: "object",
  properties: {
    state: { type: "string" },
    tries: { type: "integer" },
    started_at: { type: ["string", "null"] },
    ended_at: { type: ["string", "null"] },
    reason: { type: ["string", "null"] },
    outputs: { type: ["object", "null"], additionalProperties: true },
    next_retry_at: { type: ["string", "null"] },
  },
} as const;

const runFields = {
  id: { type: "string" },
  pipeline: { type: "string" },
  version: { type: "string" },
  state: { type: "string" },
  trigger: { type: "string" },
  logical_date: { type: "string" },
  data_interval_start: { type: ["string", "null"] },
  data_interval_end: { type: ["string", "null"] },
  params: { type: "object", additionalProperties: true },
  note: { type: ["string", "null"] },
  created_at: { type: "string" },
  started_at: { type: ["string", "null"] },
  ended_at: { type: ["string", "null"] },
} as const;

/** The run view of the CLI's --json and the API: tasks by id with state and tries. */
export const runViewSchema = { type: "object", properties: { ...runFields, team: { type: "string" }, tasks: { type: "object", additionalProperties: taskViewSchema } } } as const;

const runSummarySchema = { type: "object", properties: { ...runFields, task_counts: { type: "object", additionalProperties: { type: "integer" } } } } as const;

/** Most runs one backfill request may create. */
const MAX_BACKFILL_RUNS = 1000;

export function runRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { platform, access } = ctx;
  const { store, scheduler } = platform;

  const loadRedactedRun = async (runId: string) => {
    const view = await loadRunView(store, runId);
    if (!view) throw notFound("run", runId);
    const [masked] = await redactRunViews([view], ctx.redact);
    return masked ?? view;
  };

  app.get<{ Querystring: { pipeline?: string; state?: RunState; limit?: number; offset?: number; view?: "full" | "summary" } }>(
    "/api/runs",
    {
      ...plainJsonSerializer,
      schema: {
        tags: ["runs"],
        summary: "Runs of the caller's teams, newest logical date first; view=summary gives task counts per state instead of every task",
        security: authenticated,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            pipeline: { type: "string", minLength: 1, maxLength: 200 },
            state: { type: "string", enum: [...RUN_STATES] },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            offset: { type: "integer", minimum: 0, maximum: 10_000_000, default: 0 },
            view: { type: "string", enum: ["full", "summary"], default: "full" },
          },
        },
        response: {
          // One item schema for both views (full: tasks; summary: task_counts), so the serializer keeps every field.
          200: { type: "object", properties: { total: { type: "integer" }, runs: { type: "array", items: { type: "object", properties: { ...runViewSchema.properties, ...runSummarySchema.properties } } } } },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { pipeline, state, limit = 100, offset = 0, view = "full" } = request.query;
      const visible = await access.visiblePipelineIds(principal);
      const pipelineIds = pipeline !== undefined ? (visible === undefined || visible.includes(pipeline) ? [pipeline] : []) : visible;
      const { runs, total } = await store.grid.page({ ...(pipelineIds !== undefined ? { pipelineIds } : {}), ...(state ? { states: [state] } : {}) }, limit, offset);
      const ids = runs.map((r) => r.id);
      if (view === "summary") {
        const counts = await store.grid.stateCounts(ids);
        return { total, runs: runs.map((r) => ({ ...withoutTasks(runView(r, [])), task_counts: counts.get(r.id) ?? {} })) };
      }
      const tasks = await store.grid.taskInstances(ids);
      const byRun = new Map<string, TaskInstance[]>();
      for (const t of tasks) {
        const list = byRun.get(t.runId);
        if (list) list.push(t);
        else byRun.set(t.runId, [t]);
      }
      const orders = new Map<string, string[] | undefined>();
      for (const r of runs) if (!orders.has(r.pipelineId)) orders.set(r.pipelineId, platform.registry.get(r.pipelineId)?.spec.taskOrder);
      return { total, runs: await redactRunViews(runs.map((r) => runView(r, byRun.get(r.id) ?? [], orders.get(r.pipelineId))), ctx.redact) };
    },
  );

  app.get<{ Params: { run: string } }>(
    "/api/runs/:run",
    { schema: { tags: ["runs"], summary: "A run with every task's state and tries, in task order", security: authenticated, params: runParams, response: { 200: runViewSchema, ...authErrors } } },
    async (request) => {
      const { team } = await access.run(principalOf(request), request.params.run, "read");
      return { ...(await loadRedactedRun(request.params.run)), team };
    },
  );

  app.post<{ Params: { run: string } }>(
    "/api/runs/:run/cancel",
    { schema: { tags: ["runs"], summary: "Cancel a run: running attempts are killed, unfinished tasks cancelled (editors)", security: authenticated, params: runParams, response: { 200: runViewSchema, ...authErrors, 409: errorSchema } } },
    async (request) => {
      const { team } = await access.run(principalOf(request), request.params.run, { role: "editor", action: "cancel runs" });
      await scheduler.cancel(request.params.run);
      return { ...(await loadRedactedRun(request.params.run)), team };
    },
  );

  app.post<{ Params: { id: string }; Body: { params?: Record<string, unknown>; logical_date?: string; note?: string } | undefined }>(
    "/api/pipelines/:id/runs",
    {
      schema: {
        tags: ["runs"],
        summary: "Trigger a run; params are checked against the types the pipeline declares (editors)",
        security: authenticated,
        params: pipelineParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: { params: { type: "object", additionalProperties: true }, logical_date: { type: "string", format: "date-time" }, note: { type: "string", maxLength: 2000 } },
        },
        response: { 201: runViewSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const team = await access.pipeline(principal, request.params.id, { role: "editor", action: "trigger runs" });
      const body = request.body ?? {};
      const run = await scheduler.trigger(request.params.id, {
        params: body.params ?? {},
        trigger: "api",
        createdBy: principal.username,
        ...(body.logical_date ? { logicalDate: Date.parse(body.logical_date) } : {}),
        note: body.note ?? null,
      });
      void reply.status(201);
      return { ...(await loadRedactedRun(run.id)), team };
    },
  );

  app.post<{ Params: { id: string }; Body: { from: string; to: string; params?: Record<string, unknown> } }>(
    "/api/pipelines/:id/backfill",
    {
      schema: {
        tags: ["runs"],
        summary: "Create runs for every data interval starting in [from, to] (editors)",
        security: authenticated,
        params: pipelineParams,
        body: {
          type: "object",
          required: ["from", "to"],
          additionalProperties: false,
          properties: { from: { type: "string", format: "date-time" }, to: { type: "string", format: "date-time" }, params: { type: "object", additionalProperties: true } },
        },
        response: { 201: { type: "object", properties: { created: { type: "array", items: { type: "string" } }, existing: { type: "array", items: { type: "string" } } } }, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await access.pipeline(principal, request.params.id, { role: "editor", action: "backfill runs" });
      const from = Date.parse(request.body.from);
      const to = Date.parse(request.body.to);
      const spec = platform.registry.get(request.params.id)?.spec;
      if (spec?.schedule && spec.startDate !== null && intervalsBetween(spec.schedule, spec.timezone, spec.startDate, from, to, MAX_BACKFILL_RUNS + 1).length > MAX_BACKFILL_RUNS) {
        throw new HttpError(400, "invalid_request", `the range ${request.body.from} – ${request.body.to} holds more than ${MAX_BACKFILL_RUNS} data intervals of ${spec.schedule.text}; backfill it in smaller ranges`);
      }
      const result = await scheduler.backfill(request.params.id, from, to, { params: request.body.params ?? {}, createdBy: principal.username });
      void reply.status(201);
      return { created: result.created.map((r) => r.id), existing: result.existing };
    },
  );
}

function withoutTasks<T extends { tasks: unknown }>(view: T): Omit<T, "tasks"> {
  const { tasks: _tasks, ...rest } = view;
  return rest;
}
