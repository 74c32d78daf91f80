/** Runs and task instances: list, get, cancel, clear, mark, logs. */
import type { FastifyInstance } from "fastify";
import { attemptView, loadRunView, runView, taskView } from "../../platform/index.js";
import { readLogChunk } from "../../logs/index.js";
import { RUN_STATES, type RunState } from "../../store/index.js";
import type { ServerContext } from "../context.js";
import { HttpError } from "../errors.js";

const runParams = { type: "object", required: ["run"], properties: { run: { type: "string", maxLength: 300 } } } as const;
const taskParams = { type: "object", required: ["run", "task"], properties: { run: { type: "string", maxLength: 300 }, task: { type: "string", maxLength: 200 } } } as const;

export function runRoutes(app: FastifyInstance, { platform }: ServerContext): void {
  const { store, scheduler } = platform;

  app.get<{ Querystring: { pipeline?: string; state?: RunState; limit?: number; offset?: number } }>(
    "/api/runs",
    {
      schema: {
        tags: ["runs"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            pipeline: { type: "string", maxLength: 200 },
            state: { type: "string", enum: [...RUN_STATES] },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            offset: { type: "integer", minimum: 0, default: 0 },
          },
        },
      },
    },
    async (request) => {
      const { pipeline, state, limit, offset } = request.query;
      const filter = { ...(pipeline ? { pipelineId: pipeline } : {}), ...(state ? { states: [state] } : {}) };
      const runs = await store.runs.list({ ...filter, limit: limit ?? 100, offset: offset ?? 0 });
      const tasks = await store.tasks.listByRuns(runs.map((r) => r.id));
      const byRun = new Map<string, typeof tasks>();
      for (const t of tasks) {
        const list = byRun.get(t.runId);
        if (list) list.push(t);
        else byRun.set(t.runId, [t]);
      }
      return { total: await store.runs.count(filter), runs: runs.map((r) => runView(r, byRun.get(r.id) ?? [])) };
    },
  );

  app.get<{ Params: { run: string } }>("/api/runs/:run", { schema: { tags: ["runs"], params: runParams } }, async (request) => {
    const view = await loadRunView(store, request.params.run);
    if (!view) throw new HttpError(404, "not_found", `no run ${JSON.stringify(request.params.run)}`);
    return view;
  });

  app.post<{ Params: { run: string } }>("/api/runs/:run/cancel", { schema: { tags: ["runs"], params: runParams } }, async (request) => {
    await scheduler.cancel(request.params.run);
    return loadRunView(store, request.params.run);
  });

  app.get<{ Params: { run: string; task: string } }>("/api/runs/:run/tasks/:task", { schema: { tags: ["tasks"], params: taskParams } }, async (request) => {
    const ti = await store.tasks.get({ runId: request.params.run, taskId: request.params.task });
    if (!ti) throw new HttpError(404, "not_found", `no task ${JSON.stringify(request.params.task)} in run ${JSON.stringify(request.params.run)}`);
    const attempts = await store.attempts.listByTask(ti);
    return { run: ti.runId, task: ti.taskId, ...taskView(ti), attempts: attempts.map(attemptView) };
  });

  app.post<{ Params: { run: string; task: string }; Body: { downstream?: boolean } }>(
    "/api/runs/:run/tasks/:task/clear",
    { schema: { tags: ["tasks"], params: taskParams, body: { type: "object", additionalProperties: false, properties: { downstream: { type: "boolean" } } } } },
    async (request) => {
      const cleared = await scheduler.clear(request.params.run, [request.params.task], { downstream: request.body?.downstream ?? false });
      return { cleared };
    },
  );

  app.post<{ Params: { run: string; task: string }; Body: { state: "success" | "failed" } }>(
    "/api/runs/:run/tasks/:task/mark",
    { schema: { tags: ["tasks"], params: taskParams, body: { type: "object", required: ["state"], additionalProperties: false, properties: { state: { type: "string", enum: ["success", "failed"] } } } } },
    async (request) => taskView(await scheduler.mark(request.params.run, request.params.task, request.body.state)),
  );

  app.get<{ Params: { run: string; task: string }; Querystring: { try?: number; offset?: number } }>(
    "/api/runs/:run/tasks/:task/logs",
    {
      schema: {
        tags: ["logs"],
        params: taskParams,
        querystring: { type: "object", additionalProperties: false, properties: { try: { type: "integer", minimum: 1 }, offset: { type: "integer" } } },
      },
    },
    async (request) => {
      const ti = await store.tasks.get({ runId: request.params.run, taskId: request.params.task });
      if (!ti) throw new HttpError(404, "not_found", `no task ${JSON.stringify(request.params.task)} in run ${JSON.stringify(request.params.run)}`);
      const tryNumber = request.query.try ?? ti.tryNumber;
      const attempt = tryNumber > 0 ? await store.attempts.get({ runId: ti.runId, taskId: ti.taskId, tryNumber }) : undefined;
      if (!attempt?.logPath) return { try: tryNumber, text: "", next: 0, done: ti.tryNumber === 0 ? false : true };
      const chunk = await readLogChunk(attempt.logPath, request.query.offset ?? 0);
      const done = attempt.state !== "launching" && attempt.state !== "running";
      return { try: tryNumber, text: chunk.text, next: chunk.next, done: done && chunk.next >= chunk.size };
    },
  );
}
