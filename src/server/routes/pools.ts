/** Pools: list, create or resize, delete. */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { HttpError } from "../errors.js";

export function poolRoutes(app: FastifyInstance, { platform }: ServerContext): void {
  app.get("/api/pools", { schema: { tags: ["pools"] } }, async () => {
    const usage = await platform.store.tasks.activeUsage();
    return { pools: (await platform.store.pools.list()).map((p) => ({ name: p.name, slots: p.slots, description: p.description, used: usage.byPool.get(p.name) ?? 0 })) };
  });

  app.put<{ Params: { name: string }; Body: { slots: number; description?: string } }>(
    "/api/pools/:name",
    {
      schema: {
        tags: ["pools"],
        params: { type: "object", required: ["name"], properties: { name: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$" } } },
        body: { type: "object", required: ["slots"], additionalProperties: false, properties: { slots: { type: "integer", minimum: 0, maximum: 100000 }, description: { type: "string", maxLength: 500 } } },
      },
    },
    async (request) => {
      await platform.store.pools.upsert(request.params.name, request.body.slots, request.body.description ?? null, Date.now());
      platform.scheduler.wake();
      return { name: request.params.name, slots: request.body.slots };
    },
  );

  app.delete<{ Params: { name: string } }>("/api/pools/:name", { schema: { tags: ["pools"], params: { type: "object", required: ["name"], properties: { name: { type: "string", maxLength: 63 } } } } }, async (request, reply) => {
    if (request.params.name === "default") throw new HttpError(409, "conflict", "the default pool cannot be deleted");
    if (!(await platform.store.pools.delete(request.params.name))) throw new HttpError(404, "not_found", `no pool ${JSON.stringify(request.params.name)}`);
    void reply.status(204);
  });
}
