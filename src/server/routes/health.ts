/** GET /api/health: liveness, for probes and scripts (no credential needed). */
import type { FastifyInstance } from "fastify";
import type { RouteContext } from "../context.js";

export function healthRoutes(app: FastifyInstance, _ctx: RouteContext): void {
  app.get(
    "/api/health",
    {
      config: { public: true },
      schema: { tags: ["health"], summary: "Liveness", security: [], response: { 200: { type: "object", properties: { status: { type: "string" } } } } },
    },
    () => ({ status: "ok" }),
  );
}
