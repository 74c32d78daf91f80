/** GET /api/events: live run and task state changes as Server-Sent Events, for the pipelines the caller may see. */
import type { FastifyInstance } from "fastify";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors } from "../schemas.js";
import { openEventStream } from "../sse.js";

export function eventRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: { pipeline?: string; run?: string } }>(
    "/api/events",
    {
      schema: {
        tags: ["events"],
        summary: "State changes as Server-Sent Events (`change` events: {kind, pipeline, run, task?, state, at}); filter by pipeline or run",
        security: authenticated,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { pipeline: { type: "string", minLength: 1, maxLength: 200 }, run: { type: "string", minLength: 1, maxLength: 300 } },
        },
        response: { 200: { description: "text/event-stream", type: "string" }, ...authErrors },
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
