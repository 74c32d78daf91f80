/** Task logs: a byte range (for paging and the CLI), and following a log live over Server-Sent Events. */
import { z } from "zod";
import { followLog } from "../../logs/index.js";
import { attemptOf, findTask, readTaskLog } from "../../operations/index.js";
import { LogChunkSchema } from "../../operations/index.js";
import { ACTIVE_ATTEMPT_STATES } from "../../store/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors, mediaAnswer, queryInt, taskParams, type ApiServer } from "../schemas.js";
import { openEventStream } from "../sse.js";

/** How often a follower checks the attempt row when no state change arrives (a safety net for other schedulers). */
const DONE_CHECK_MS = 5_000;
const tryNumber = queryInt(1, 100000);
const MAX_OFFSET = 1099511627776;

export function logRoutes(app: ApiServer, ctx: RouteContext): void {
  const { platform, access, operations } = ctx;
  const isActive = (state: string) => (ACTIVE_ATTEMPT_STATES as readonly string[]).includes(state);

  app.get(
    "/api/runs/:run/tasks/:task/logs",
    {
      schema: {
        tags: ["logs"],
        summary: "Up to 1 MiB of a try's log from a byte offset (negative: from the end); `next` is the offset to ask for next. Any byte of a secret value shows as `***`, whatever the offset",
        security: authenticated,
        params: taskParams,
        querystring: z.strictObject({ try: tryNumber.optional(), offset: queryInt(-MAX_OFFSET, MAX_OFFSET).optional() }),
        response: { 200: LogChunkSchema, ...authErrors },
      },
    },
    async (request) => {
      await access.run(principalOf(request), request.params.run, "read");
      return readTaskLog(operations, request.params.run, request.params.task, request.query);
    },
  );

  app.get(
    "/api/runs/:run/tasks/:task/logs/stream",
    {
      schema: {
        tags: ["logs"],
        summary:
          "Follow a try's log as Server-Sent Events: `log` events carry {text, next}; `end` comes when the attempt has ended and all was sent, or {waiting: true} when the try has not started (reconnect when it has)",
        security: authenticated,
        params: taskParams,
        querystring: z.strictObject({ try: tryNumber.optional(), offset: queryInt(0, MAX_OFFSET).optional() }),
        response: { 200: mediaAnswer("text/event-stream", "`log` events, then one `end` event"), ...authErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await access.run(principal, request.params.run, "read");
      const ti = await findTask(operations, request.params.run, request.params.task);
      const tryNumber = request.query.try ?? ti.tryNumber;
      const attempt = await attemptOf(operations, ti, tryNumber);
      const stream = openEventStream(ctx, reply, principal);
      if (!attempt?.logPath) {
        stream.send("end", { try: tryNumber, waiting: true });
        stream.close();
        return;
      }
      const logPath = attempt.logPath;
      let ended = !isActive(attempt.state);
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
          const current = await attemptOf(operations, ti, tryNumber);
          ended = !current || !isActive(current.state);
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
