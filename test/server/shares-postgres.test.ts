/**
 * Share links on PostgreSQL: made, listed, counted (an SQL increment) and revoked once, as on
 * SQLite in shares.test.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { createTestDatabase } from "../support/postgres.js";
import { openServer, type ServerHarness } from "./support/server-harness.js";

let s: ServerHarness | undefined;
afterAll(async () => {
  await s?.close();
});

it("makes, lists, counts and revokes share links on PostgreSQL", async () => {
  const root = join(tempDir("capstan-shares-pg-"), "data");
  mkdirSync(root);
  writeFileSync(join(root, "model.bin"), "0123456789");
  s = await openServer({ databaseUrl: await createTestDatabase(), configure: (config) => (config.volumes = { lake: { kind: "local", path: root, team: "pg" } }) });
  const alice = await s.user("alice", { pg: "editor" });
  const made = await s.call<{ share: { id: string } }>("POST", "/api/shares", { token: alice.token, body: { volume: "lake", path: "model.bin", password: "a long enough password", expiresIn: "2d" } });
  expect(made.status).toBe(201);
  const id = made.body.share.id;
  const headers = { "x-capstan-share-password": "a long enough password" };
  await Promise.all([1, 2, 3].map(() => s!.call("GET", `/api/public/shares/${id}/files`, { headers })));
  const listed = await s.call<{ shares: { id: string; downloads: number; passwordProtected: boolean; revokedAt: string | null }[] }>("GET", "/api/shares", { token: alice.token });
  expect(listed.body.shares).toMatchObject([{ id, downloads: 3, passwordProtected: true, revokedAt: null }]);
  expect((await s.call("DELETE", `/api/shares/${id}`, { token: alice.token })).status).toBe(204);
  expect((await s.call("GET", `/api/public/shares/${id}/files`, { headers })).status).toBe(404);
  expect(s.serverErrors).toEqual([]);
});
