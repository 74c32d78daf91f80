/** Pools: listed with their use by everyone; created, resized and deleted for every team at once. */
import { DEFAULT_POOL } from "../pipelines/index.js";
import type { PoolView } from "./views.js";
import { ConflictError, NotFoundError } from "../scheduler/index.js";
import type { OperationsContext } from "./context.js";

/** Pools with their slots and how many are in use. */
export async function listPools(ctx: OperationsContext): Promise<PoolView[]> {
  const [usage, pools] = await Promise.all([ctx.store.tasks.activeUsage(), ctx.store.pools.list()]);
  return pools.map((p) => ({ name: p.name, slots: p.slots, description: p.description, used: usage.byPool.get(p.name) ?? 0 }));
}

/**
 * Creates a pool or changes its slots. `wake` tells a running scheduler that slots may have
 * opened; the CLI without a server has none to tell.
 */
export async function setPool(ctx: OperationsContext, name: string, slots: number, description: string | undefined, wake?: () => void): Promise<PoolView> {
  await ctx.store.pools.upsert(name, slots, description ?? null, Date.now());
  wake?.();
  return { name, slots, description: description ?? null, used: (await ctx.store.tasks.activeUsage()).byPool.get(name) ?? 0 };
}

/** Deletes a pool; the default pool stays. */
export async function deletePool(ctx: OperationsContext, name: string): Promise<void> {
  if (name === DEFAULT_POOL) throw new ConflictError("the default pool cannot be deleted");
  if (!(await ctx.store.pools.delete(name))) throw new NotFoundError(`no pool ${JSON.stringify(name)}`);
}
