/** GET /api/events: live run and task state changes as Server-Sent Events, for the pipelines the caller may see. */
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { ChangeEventSchema } from "../event-hub.js";
import { authenticated, authErrors, id, runId, type ApiServer } from "../schemas.js";
import { openEventStream } from "../sse.js";
import { z } from "zod";

export function eventRoutes(app: ApiServer, ctx: RouteContext): void {
  app.get(
    "/api/events",
    {
      schema: {
        tags: ["events"],
        summary: "State changes as Server-Sent Events (`change` events: {kind, pipeline, run, task?, state, at}); filter by pipeline or run",
        security: authenticated,
        querystring: z.strictObject({ pipeline: id.optional(), run: runId.optional() }),
        response: { 200: { description: "text/event-stream of `change` events (the data of each is a ChangeEvent)", content: { "text/event-stream": { schema: ChangeEventSchema } } }, ...authErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { pipeline, run } = request.query;
      if (pipeline !== undefined) await ctx.access.pipeline(principal, pipeline, "read");
      if (run !== undefined) await ctx.access.run(principal, run, "read");
      const stream = openEventStream(ctx, reply, principal);
      const unsubscribe = ctx.hub.subscribe({ principal, ...(pipeline !== undefined ? { pipeline } : {}), ...(run !== undefined ? { run } : {}), send: (event) => stream.send("change", event) });
      stream.send("ready", { at: new Date().toISOString() });
      stream.signal.addEventListener("abort", unsubscribe, { once: true });
    },
  );
}
