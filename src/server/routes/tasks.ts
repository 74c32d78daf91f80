/** Task instances: one with its attempts, clear (with or without downstream), mark, outputs, and the output notebook (raw, or rendered in a sandbox). */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { clearTask, findTask, markTask, taskDetail, taskOutputs } from "../../operations/index.js";
import { TaskDetailSchema, TaskViewSchema } from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { HttpError } from "../errors.js";
import { authenticated, authErrors, errorSchema, mediaAnswer, queryInt, taskParams, type ApiServer } from "../schemas.js";
import { NOTEBOOK_CSP, renderNotebookHtml } from "../views/notebook-html.js";
import { attemptNotebookPath, maskNotebookText } from "../views/notebook-file.js";

const tryQuery = z.strictObject({ try: queryInt(1, 100000).optional() });

export function taskRoutes(app: ApiServer, ctx: RouteContext): void {
  const { platform, access, operations } = ctx;
  const { store } = platform;

  /** The output notebook of the asked try (default: the latest), when the caller may see the run. */
  const notebookOf = async (principal: ReturnType<typeof principalOf>, params: { run: string; task: string }, asked: number | undefined): Promise<string> => {
    await access.run(principal, params.run, "read");
    const ti = await findTask(operations, params.run, params.task);
    const tryNumber = asked ?? ti.tryNumber;
    const attempt = tryNumber > 0 ? await store.attempts.get({ runId: ti.runId, taskId: ti.taskId, tryNumber }) : undefined;
    const path = attempt ? await attemptNotebookPath(ti, attempt) : undefined;
    if (!path) throw new HttpError(404, "not_found", `task ${ti.taskId} of run ${ti.runId} has no output notebook${tryNumber > 0 ? ` for try ${tryNumber}` : " yet"}`);
    return path;
  };

  app.get(
    "/api/runs/:run/tasks/:task",
    { schema: { tags: ["tasks"], summary: "A task instance with its attempts, failure reason and outputs", security: authenticated, params: taskParams, response: { 200: TaskDetailSchema, ...authErrors } } },
    async (request) => {
      const { team } = await access.run(principalOf(request), request.params.run, "read");
      return { ...(await taskDetail(operations, request.params.run, request.params.task)), team };
    },
  );

  app.post(
    "/api/runs/:run/tasks/:task/clear",
    {
      schema: {
        tags: ["tasks"],
        summary: "Clear a task so it runs again with fresh retries; downstream=true clears everything after it too (editors)",
        security: authenticated,
        params: taskParams,
        body: z.strictObject({ downstream: z.boolean().optional() }).optional(),
        response: { 200: z.object({ cleared: z.array(z.string()) }), ...authErrors, 409: errorSchema },
      },
    },
    async (request) => {
      await access.run(principalOf(request), request.params.run, { role: "editor", action: "clear tasks" });
      return { cleared: await clearTask(operations, request.params.run, request.params.task, request.body?.downstream ?? false) };
    },
  );

  app.post(
    "/api/runs/:run/tasks/:task/mark",
    {
      schema: {
        tags: ["tasks"],
        summary: "Set a task to success or failed by hand; a running attempt is killed (editors)",
        security: authenticated,
        params: taskParams,
        body: z.strictObject({ state: z.enum(["success", "failed"]) }),
        response: { 200: TaskViewSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request) => {
      await access.run(principalOf(request), request.params.run, { role: "editor", action: "mark tasks" });
      return markTask(operations, request.params.run, request.params.task, request.body.state);
    },
  );

  app.get(
    "/api/runs/:run/tasks/:task/outputs",
    {
      schema: {
        tags: ["tasks"],
        summary: "The outputs the task wrote ($CAPSTAN_OUTPUT), or null",
        security: authenticated,
        params: taskParams,
        response: { 200: z.object({ run: z.string(), task: z.string(), outputs: z.record(z.string(), z.unknown()).nullable() }), ...authErrors },
      },
    },
    async (request) => {
      await access.run(principalOf(request), request.params.run, "read");
      return taskOutputs(operations, request.params.run, request.params.task);
    },
  );

  app.get(
    "/api/runs/:run/tasks/:task/notebook",
    {
      schema: {
        tags: ["notebooks"],
        summary: "The output notebook (.ipynb) of a notebook task, as a download",
        security: authenticated,
        params: taskParams,
        querystring: tryQuery,
        response: { 200: mediaAnswer("application/x-ipynb+json", "The notebook file, secret values masked"), ...authErrors },
      },
    },
    async (request, reply) => {
      const path = await notebookOf(principalOf(request), request.params, request.query.try);
      const name = `${request.params.run}-${request.params.task}.ipynb`.replace(/[^A-Za-z0-9_.-]/g, "_");
      void reply
        .header("content-type", "application/x-ipynb+json")
        .header("content-disposition", `attachment; filename="${name}"`)
        .header("content-security-policy", NOTEBOOK_CSP)
        .header("x-content-type-options", "nosniff");
      return reply.send(maskNotebookText(await readFile(path, "utf8"), await platform.secrets.mask()));
    },
  );

  app.get(
    "/api/runs/:run/tasks/:task/notebook/html",
    {
      schema: {
        tags: ["notebooks"],
        summary: "The output notebook rendered as HTML, served in a CSP sandbox (no scripts, opaque origin) for an iframe",
        security: authenticated,
        params: taskParams,
        querystring: tryQuery,
        response: { 200: mediaAnswer("text/html", "The rendered notebook"), ...authErrors, 422: errorSchema },
      },
    },
    async (request, reply) => {
      const path = await notebookOf(principalOf(request), request.params, request.query.try);
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
