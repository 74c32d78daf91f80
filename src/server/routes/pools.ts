/** Pools: everyone sees them with their use; admins create, resize and delete them (they are shared by all teams). */
import type { FastifyInstance } from "fastify";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { HttpError, notFound } from "../errors.js";
import { authenticated, authErrors, errorSchema, noContent } from "../schemas.js";

const POOL_NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$";
const poolSchema = { type: "object", properties: { name: { type: "string" }, slots: { type: "integer" }, description: { type: ["string", "null"] }, used: { type: "integer" } } } as const;

export function poolRoutes(app: FastifyInstance, { platform }: RouteContext): void {
  app.get(
    "/api/pools",
    { schema: { tags: ["pools"], summary: "Pools with their slots and how many are in use", security: authenticated, response: { 200: { type: "object", properties: { pools: { type: "array", items: poolSchema } } }, ...authErrors } } },
    async () => {
      const [usage, pools] = await Promise.all([platform.store.tasks.activeUsage(), platform.store.pools.list()]);
      return { pools: pools.map((p) => ({ name: p.name, slots: p.slots, description: p.description, used: usage.byPool.get(p.name) ?? 0 })) };
    },
  );

  app.put<{ Params: { name: string }; Body: { slots: number; description?: string } }>(
    "/api/pools/:name",
    {
      schema: {
        tags: ["pools"],
        summary: "Create a pool or change its slots (admins)",
        security: authenticated,
        params: { type: "object", required: ["name"], additionalProperties: false, properties: { name: { type: "string", pattern: POOL_NAME } } },
        body: { type: "object", required: ["slots"], additionalProperties: false, properties: { slots: { type: "integer", minimum: 0, maximum: 100000 }, description: { type: "string", maxLength: 500 } } },
        response: { 200: poolSchema, ...authErrors },
      },
    },
    async (request) => {
      principalOf(request).requireAdmin("change pools (they are shared by every team)");
      await platform.store.pools.upsert(request.params.name, request.body.slots, request.body.description ?? null, Date.now());
      platform.scheduler.wake();
      return { name: request.params.name, slots: request.body.slots, description: request.body.description ?? null, used: (await platform.store.tasks.activeUsage()).byPool.get(request.params.name) ?? 0 };
    },
  );

  app.delete<{ Params: { name: string } }>(
    "/api/pools/:name",
    {
      schema: {
        tags: ["pools"],
        summary: "Delete a pool (admins); the default pool stays",
        security: authenticated,
        params: { type: "object", required: ["name"], additionalProperties: false, properties: { name: { type: "string", minLength: 1, maxLength: 63 } } },
        response: { ...noContent, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      principalOf(request).requireAdmin("delete pools (they are shared by every team)");
      if (request.params.name === "default") throw new HttpError(409, "conflict", "the default pool cannot be deleted");
      if (!(await platform.store.pools.delete(request.params.name))) throw notFound("pool", request.params.name);
      void reply.status(204);
    },
  );
}
