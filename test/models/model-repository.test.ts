/** The registry's repository on SQLite and PostgreSQL: one model per name, numbered versions, aliases that move. */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Store, type NewModelVersion } from "../../src/store/index.js";
import { tempDir } from "../support/platform-harness.js";
import { createTestDatabase } from "../support/postgres.js";

const backends = [
  { name: "sqlite", url: () => Promise.resolve(join(tempDir(), "capstan.db")) },
  { name: "postgres", url: createTestDatabase },
];

const version = (name: string, sha256: string): NewModelVersion => ({
  name,
  kind: "dir",
  sha256,
  artifactPath: `models/${name}/${sha256}`,
  sourcePath: "/src",
  sizeBytes: 3_000_000_000,
  runId: null,
  taskId: null,
  params: null,
  metrics: null,
  createdBy: null,
  createdAt: 1_800_000_000_000,
});

describe.each(backends)("model repository on $name", ({ url }) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("keeps the first team of a name, numbers versions and moves aliases", async () => {
    const s = (store = await Store.open({ url: await url() }));
    await s.migrate();
    expect((await s.models.ensure("users", "ml", 1)).team).toBe("ml");
    expect((await s.models.ensure("users", "other", 2)).team).toBe("ml");
    const first = await s.transaction((tx) => tx.models.addVersion(version("users", "a")));
    const second = await s.transaction((tx) => tx.models.addVersion(version("users", "b")));
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(Number((await s.models.version("users", 2))?.sizeBytes)).toBe(3_000_000_000);
    await s.models.setAlias("users", "production", 1, 10);
    await s.models.setAlias("users", "production", 2, 11);
    expect((await s.models.aliases("users")).map((a) => [a.alias, Number(a.version)])).toEqual([["production", 2]]);
    expect((await s.models.list(["other"])).length).toBe(0);
    expect((await s.models.list()).map((m) => m.name)).toEqual(["users"]);
  });

  it("finds the version a run's task registered with the same content, and numbers concurrent versions one after the other", async () => {
    const s = (store = await Store.open({ url: await url() }));
    await s.migrate();
    await s.models.ensure("users", "ml", 1);
    const byTask = { ...version("users", "c"), runId: "r1", taskId: "package" };
    const written = await s.transaction((tx) => tx.models.addVersion(byTask));
    expect((await s.models.registeredBy("users", "r1", "package", "c"))?.version).toBe(written.version);
    expect(await s.models.registeredBy("users", "r1", "package", "other")).toBeUndefined();
    expect(await s.models.registeredBy("users", "r2", "package", "c")).toBeUndefined();
    const numbers = await Promise.all(Array.from({ length: 6 }, (_, i) => s.transaction((tx) => tx.models.addVersion(version("users", `n${i}`)))));
    expect(numbers.map((v) => Number(v.version)).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
  });
});
