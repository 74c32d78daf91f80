/** Task instances: one with its attempts, clear (with or without downstream), mark, outputs, and the output notebook (raw, or rendered in a sandbox). */
import { readFile } from "node:fs/promises";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { attemptView, taskView } from "../../platform/index.js";
import type { TaskInstance } from "../../store/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { HttpError, notFound } from "../errors.js";
import { authenticated, authErrors, errorSchema, taskParams } from "../schemas.js";
import { redactTaskFields, redactValues } from "../views/redact-values.js";
import { NOTEBOOK_CSP, renderNotebookHtml } from "../views/notebook-html.js";
import { attemptNotebookPath, maskNotebookText } from "../views/notebook-file.js";

type TaskRequest = FastifyRequest<{ Params: { run: string; task: string }; Querystring: { try?: number } }>;

const tryQuery = { type: "object", additionalProperties: false, properties: { try: { type: "integer", minimum: 1, maximum: 100000 } } } as const;

export function taskRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { platform, access } = ctx;
  const { store, scheduler } = platform;

  /** The task instance when the caller may see its run. */
  const readable = async (request: TaskRequest): Promise<{ ti: TaskInstance; team: string }> => {
    const { run, team } = await access.run(principalOf(request), request.params.run, "read");
    const ti = await store.tasks.get({ runId: run.id, taskId: request.params.task });
    if (!ti) throw notFound("task", request.params.task);
    return { ti, team };
  };

  /** The output notebook of the asked try (default: the latest). */
  const notebookOf = async (request: TaskRequest): Promise<string> => {
    const { ti } = await readable(request);
    const tryNumber = request.query.try ?? ti.tryNumber;
    const attempt = tryNumber > 0 ? await store.attempts.get({ runId: ti.runId, taskId: ti.taskId, tryNumber }) : undefined;
    const path = attempt ? await attemptNotebookPath(ti, attempt) : undefined;
    if (!path) throw new HttpError(404, "not_found", `task ${ti.taskId} of run ${ti.runId} has no output notebook${tryNumber > 0 ? ` for try ${tryNumber}` : " yet"}`);
    return path;
  };

  app.get<{ Params: { run: string; task: string } }>(
    "/api/runs/:run/tasks/:task",
    { schema: { tags: ["tasks"], summary: "A task instance with its attempts, failure reason and outputs", security: authenticated, params: taskParams, response: { ...authErrors } } },
    async (request) => {
      const { ti, team } = await readable(request as TaskRequest);
      const run = await store.runs.get(ti.runId);
      const spec = run ? await scheduler.versions.get(run.pipelineId, run.version).then((v) => v.spec.tasks[ti.taskId], () => undefined) : undefined;
      const attempts = await redactValues((await store.attempts.listByTask(ti)).map(attemptView), ctx.redact);
      const [view] = await redactTaskFields([taskView(ti)], ctx.redact);
      return {
        run: ti.runId,
        task: ti.taskId,
        pipeline: ti.pipelineId,
        team,
        ...view,
        kind: spec?.kind ?? null,
        depends_on: spec?.dependsOn ?? [],
        pool: ti.pool,
        max_tries: ti.maxTries,
        has_notebook: typeof ti.outputs?.notebook === "string",
        attempts,
      };
    },
  );

  app.post<{ Params: { run: string; task: string }; Body: { downstream?: boolean } | undefined }>(
    "/api/runs/:run/tasks/:task/clear",
    {
      schema: {
        tags: ["tasks"],
        summary: "Clear a task so it runs again with fresh retries; downstream=true clears everything after it too (editors)",
        security: authenticated,
        params: taskParams,
        body: { type: "object", additionalProperties: false, properties: { downstream: { type: "boolean" } } },
        response: { 200: { type: "object", properties: { cleared: { type: "array", items: { type: "string" } } } }, ...authErrors, 409: errorSchema },
      },
    },
    async (request) => {
      await access.run(principalOf(request), request.params.run, { role: "editor", action: "clear tasks" });
      const cleared = await scheduler.clear(request.params.run, [request.params.task], { downstream: request.body?.downstream ?? false });
      return { cleared };
    },
  );

  app.post<{ Params: { run: string; task: string }; Body: { state: "success" | "failed" } }>(
    "/api/runs/:run/tasks/:task/mark",
    {
      schema: {
        tags: ["tasks"],
        summary: "Set a task to success or failed by hand; a running attempt is killed (editors)",
        security: authenticated,
        params: taskParams,
        body: { type: "object", required: ["state"], additionalProperties: false, properties: { state: { type: "string", enum: ["success", "failed"] } } },
        response: { ...authErrors, 409: errorSchema },
      },
    },
    async (request) => {
      await access.run(principalOf(request), request.params.run, { role: "editor", action: "mark tasks" });
      const [view] = await redactTaskFields([taskView(await scheduler.mark(request.params.run, request.params.task, request.body.state))], ctx.redact);
      return view;
    },
  );

  app.get<{ Params: { run: string; task: string } }>(
    "/api/runs/:run/tasks/:task/outputs",
    { schema: { tags: ["tasks"], summary: "The outputs the task wrote ($CAPSTAN_OUTPUT), or null", security: authenticated, params: taskParams, response: { ...authErrors } } },
    async (request) => {
      const { ti } = await readable(request as TaskRequest);
      const [outputs] = await redactValues([ti.outputs], ctx.redact);
      return { run: ti.runId, task: ti.taskId, outputs: outputs ?? null };
    },
  );

  app.get<{ Params: { run: string; task: string }; Querystring: { try?: number } }>(
    "/api/runs/:run/tasks/:task/notebook",
    {
      schema: {
        tags: ["notebooks"],
        summary: "The output notebook (.ipynb) of a notebook task, as a download",
        security: authenticated,
        params: taskParams,
        querystring: tryQuery,
        response: { ...authErrors },
      },
    },
    async (request, reply) => {
      const path = await notebookOf(request);
      const name = `${request.params.run}-${request.params.task}.ipynb`.replace(/[^A-Za-z0-9_.-]/g, "_");
      void reply
        .header("content-type", "application/x-ipynb+json")
        .header("content-disposition", `attachment; filename="${name}"`)
        .header("content-security-policy", NOTEBOOK_CSP)
        .header("x-content-type-options", "nosniff");
      return reply.send(maskNotebookText(await readFile(path, "utf8"), await platform.secrets.mask()));
    },
  );

  app.get<{ Params: { run: string; task: string }; Querystring: { try?: number } }>(
    "/api/runs/:run/tasks/:task/notebook/html",
    {
      schema: {
        tags: ["notebooks"],
        summary: "The output notebook rendered as HTML, served in a CSP sandbox (no scripts, opaque origin) for an iframe",
        security: authenticated,
        params: taskParams,
        querystring: tryQuery,
        response: { ...authErrors, 422: errorSchema },
      },
    },
    async (request, reply) => {
      const path = await notebookOf(request);
      let html: string;
      try {
        html = renderNotebookHtml(await readFile(path, "utf8"), `${request.params.task} · ${request.params.run}`, await platform.secrets.mask());
      } catch (error) {
        throw new HttpError(422, "invalid_notebook", `the output notebook of ${request.params.task} cannot be read: ${(error as Error).message}`);
      }
      void reply
        .header("content-type", "text/html; charset=utf-8")
        .header("content-security-policy", NOTEBOOK_CSP)
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "no-store");
      return reply.send(html);
    },
  );
}
