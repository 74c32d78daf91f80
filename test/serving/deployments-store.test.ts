/** The deployment repository on SQLite and PostgreSQL: names are unique, a move records the version before, followers of an alias move together, a deleting deployment keeps its state. */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Store, type StoredDeployment } from "../../src/store/index.js";
import { tempDir } from "../support/platform-harness.js";
import { createTestDatabase } from "../support/postgres.js";

const backends = [
  { name: "sqlite", url: () => Promise.resolve(join(tempDir(), "capstan.db")) },
  { name: "postgres", url: createTestDatabase },
];

const deployment = (name: string, ref: string, version: number): StoredDeployment => ({
  name,
  team: "ml",
  model: "users",
  ref,
  version,
  previousVersion: null,
  replicas: 2,
  target: "kubernetes",
  cluster: "gpu",
  namespace: "serving",
  cpu: "500m",
  memory: "1Gi",
  gpus: 1,
  state: "pending",
  message: null,
  replicaStatus: null,
  tokenAuth: 0,
  inferenceKey: null,
  createdBy: "ana",
  createdAt: 1_800_000_000_000,
  updatedAt: 1_800_000_000_000,
});

describe.each(backends)("deployment repository on $name", ({ url }) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("stores deployments, moves followers of an alias together and remembers the version before", async () => {
    store = await Store.open({ url: await url() });
    await store.models.ensure("users", "ml", 1);
    await store.deployments.insert(deployment("users-prod", "production", 1));
    await store.deployments.insert(deployment("users-prod-eu", "production", 1));
    await store.deployments.insert(deployment("users-pinned", "1", 1));
    await expect(store.deployments.insert(deployment("users-prod", "staging", 1))).rejects.toThrow();

    expect(await store.deployments.follow("users", "production", 2, 5)).toEqual(["users-prod", "users-prod-eu"]);
    expect(await store.deployments.follow("users", "production", 2, 6)).toEqual([]);
    expect(await store.deployments.get("users-prod")).toMatchObject({ version: 2, previousVersion: 1, state: "pending", updatedAt: 5, gpus: 1, cpu: "500m" });
    expect(await store.deployments.get("users-pinned")).toMatchObject({ version: 1, previousVersion: null });

    await store.deployments.report("users-prod", "ready", null, JSON.stringify([{ replica: "0" }]), 7);
    expect(await store.deployments.get("users-prod")).toMatchObject({ state: "ready", replicaStatus: '[{"replica":"0"}]' });
    await store.deployments.update("users-prod", { state: "deleting" }, 8);
    await store.deployments.report("users-prod", "ready", null, null, 9);
    expect((await store.deployments.get("users-prod"))?.state).toBe("deleting");

    expect((await store.deployments.list({ teams: ["ml"] })).map((d) => d.name)).toEqual(["users-pinned", "users-prod", "users-prod-eu"]);
    expect(await store.deployments.list({ teams: ["other"] })).toEqual([]);
    expect(await store.deployments.list({ teams: [] })).toEqual([]);
    await store.deployments.delete("users-prod");
    expect(await store.deployments.get("users-prod")).toBeUndefined();
  });
});
