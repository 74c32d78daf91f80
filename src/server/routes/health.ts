/** GET /api/health: liveness, for probes and scripts. */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

export function healthRoutes(app: FastifyInstance, _ctx: ServerContext): void {
  app.get("/api/health", { schema: { tags: ["health"], summary: "Liveness" } }, () => ({ status: "ok" }));
}
