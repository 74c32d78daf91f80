/** Task logs: a byte range (for paging and the CLI), and following a log live over Server-Sent Events. */
import type { FastifyInstance } from "fastify";
import { followLog, readLogChunk } from "../../logs/index.js";
import type { Attempt, TaskInstance } from "../../store/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { notFound } from "../errors.js";
import { authenticated, authErrors, taskParams } from "../schemas.js";
import { openEventStream } from "../sse.js";

const ACTIVE = new Set(["launching", "running"]);
/** How often a follower checks the attempt row when no state change arrives (a safety net for other schedulers). */
const DONE_CHECK_MS = 5_000;

export function logRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { platform, access } = ctx;
  const { store } = platform;

  const taskOf = async (principal: ReturnType<typeof principalOf>, runId: string, taskId: string): Promise<TaskInstance> => {
    await access.run(principal, runId, "read");
    const ti = await store.tasks.get({ runId, taskId });
    if (!ti) throw notFound("task", taskId);
    return ti;
  };

  const attemptOf = async (ti: TaskInstance, tryNumber: number): Promise<Attempt | undefined> =>
    tryNumber > 0 ? store.attempts.get({ runId: ti.runId, taskId: ti.taskId, tryNumber }) : undefined;

  app.get<{ Params: { run: string; task: string }; Querystring: { try?: number; offset?: number } }>(
    "/api/runs/:run/tasks/:task/logs",
    {
      schema: {
        tags: ["logs"],
        summary: "Up to 1 MiB of a try's log from a byte offset (negative: from the end); `next` is the offset to ask for next. Any byte of a secret value shows as `***`, whatever the offset",
        security: authenticated,
        params: taskParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { try: { type: "integer", minimum: 1, maximum: 100000 }, offset: { type: "integer", minimum: -1099511627776, maximum: 1099511627776 } },
        },
        response: {
          200: { type: "object", properties: { try: { type: "integer" }, text: { type: "string" }, next: { type: "integer" }, size: { type: "integer" }, done: { type: "boolean" } } },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const ti = await taskOf(principalOf(request), request.params.run, request.params.task);
      const tryNumber = request.query.try ?? ti.tryNumber;
      const attempt = await attemptOf(ti, tryNumber);
      if (!attempt?.logPath) return { try: tryNumber, text: "", next: 0, size: 0, done: tryNumber > 0 && tryNumber < ti.tryNumber };
      // While the attempt runs, a tail that may be the start of a secret waits for the next read.
      const live = ACTIVE.has(attempt.state);
      const chunk = await readLogChunk(attempt.logPath, request.query.offset ?? 0, { mask: await platform.secrets.mask(), live });
      const done = !live && chunk.next >= chunk.size;
      return { try: tryNumber, text: chunk.text, next: chunk.next, size: chunk.size, done };
    },
  );

  app.get<{ Params: { run: string; task: string }; Querystring: { try?: number; offset?: number } }>(
    "/api/runs/:run/tasks/:task/logs/stream",
    {
      schema: {
        tags: ["logs"],
        summary:
          "Follow a try's log as Server-Sent Events: `log` events carry {text, next}; `end` comes when the attempt has ended and all was sent, or {waiting: true} when the try has not started (reconnect when it has)",
        security: authenticated,
        params: taskParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { try: { type: "integer", minimum: 1, maximum: 100000 }, offset: { type: "integer", minimum: 0, maximum: 1099511627776 } },
        },
        response: { 200: { description: "text/event-stream", type: "string" }, ...authErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const ti = await taskOf(principal, request.params.run, request.params.task);
      const tryNumber = request.query.try ?? ti.tryNumber;
      const attempt = await attemptOf(ti, tryNumber);
      const stream = openEventStream(ctx, reply, principal);
      if (!attempt?.logPath) {
        stream.send("end", { try: tryNumber, waiting: true });
        stream.close();
        return;
      }
      const logPath = attempt.logPath;
      let ended = !ACTIVE.has(attempt.state);
      let lastCheck = Date.now();
      // State changes of this task wake the follower; the attempt row is read only when one arrives (or rarely, as a safety net).
      let changed = false;
      const unsubscribe = ctx.hub.subscribe({ principal, run: ti.runId, send: (event) => {
        if (event.task === ti.taskId) changed = true;
      } });
      const isDone = async () => {
        if (ended) return true;
        if (changed || Date.now() - lastCheck > DONE_CHECK_MS) {
          changed = false;
          lastCheck = Date.now();
          const current = await attemptOf(ti, tryNumber);
          ended = !current || !ACTIVE.has(current.state);
        }
        return ended;
      };
      try {
        // Text comes masked on the bytes of the file (see readLogChunk), a secret's unfinished start held back until it is complete.
        const final = await followLog(logPath, {
          offset: request.query.offset ?? 0,
          isDone,
          mask: () => platform.secrets.mask(),
          signal: stream.signal,
          checkMs: 1_000,
          onData: (text, next) => stream.send("log", { text, next }),
        });
        stream.send("end", { try: tryNumber, next: final });
      } finally {
        unsubscribe();
        stream.close();
      }
    },
  );
}
