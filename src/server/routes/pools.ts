/** Pools: everyone sees them with their use; admins create, resize and delete them (they are shared by all teams). */
import { z } from "zod";
import { deletePool, listPools, setPool } from "../../operations/index.js";
import { PoolViewSchema } from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors, errorSchema, noContent, type ApiServer } from "../schemas.js";

const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function poolRoutes(app: ApiServer, { platform, operations }: RouteContext): void {
  app.get(
    "/api/pools",
    { schema: { tags: ["pools"], summary: "Pools with their slots and how many are in use", security: authenticated, response: { 200: z.object({ pools: z.array(PoolViewSchema) }), ...authErrors } } },
    async () => ({ pools: await listPools(operations) }),
  );

  app.put(
    "/api/pools/:name",
    {
      schema: {
        tags: ["pools"],
        summary: "Create a pool or change its slots (admins)",
        security: authenticated,
        params: z.strictObject({ name: z.string().regex(POOL_NAME) }),
        body: z.strictObject({ slots: z.int().min(0).max(100000), description: z.string().max(500).optional() }),
        response: { 200: PoolViewSchema, ...authErrors },
      },
    },
    async (request) => {
      principalOf(request).requireAdmin("change pools (they are shared by every team)");
      return setPool(operations, request.params.name, request.body.slots, request.body.description, () => platform.scheduler.wake());
    },
  );

  app.delete(
    "/api/pools/:name",
    {
      schema: {
        tags: ["pools"],
        summary: "Delete a pool (admins); the default pool stays",
        security: authenticated,
        params: z.strictObject({ name: z.string().min(1).max(63) }),
        response: { ...noContent, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      principalOf(request).requireAdmin("delete pools (they are shared by every team)");
      await deletePool(operations, request.params.name);
      void reply.status(204);
    },
  );
}
