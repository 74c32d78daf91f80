/** GET /api/health: liveness, for probes and scripts (no credential needed). */
import { z } from "zod";
import type { RouteContext } from "../context.js";
import type { ApiServer } from "../schemas.js";

export function healthRoutes(app: ApiServer, _ctx: RouteContext): void {
  app.get(
    "/api/health",
    {
      config: { public: true },
      schema: { tags: ["health"], summary: "Liveness", security: [], response: { 200: z.object({ status: z.literal("ok") }) } },
    },
    () => ({ status: "ok" as const }),
  );
}
