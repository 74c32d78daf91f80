/**
 * The web UI's API types are generated from the server's OpenAPI document (npm run gen:api): this
 * fails when a route's schemas changed and web/src/api/openapi.gen.ts was not written again, and
 * checks that the document generation reads is the one GET /api/openapi.json serves.
 */
import { readFileSync } from "node:fs";
import { afterEach, expect, it } from "vitest";
import { API_TYPES_FILE, renderApiTypes } from "../../scripts/gen-api.js";
import { openApiDocument } from "../../src/server/index.js";
import { openServer, type ServerHarness } from "./support/server-harness.js";

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it("web/src/api/openapi.gen.ts is what npm run gen:api writes from the routes' schemas now", async () => {
  const fresh = await renderApiTypes(await openApiDocument());
  // A boolean, not a diff of 4,000 lines: the message says what to do.
  expect(readFileSync(API_TYPES_FILE, "utf8") === fresh, "web/src/api/openapi.gen.ts is stale: run `npm run gen:api` and commit it").toBe(true);
}, 60_000);

it("generates from the document a running server serves", async () => {
  h = await openServer({ pipelines: { "p.yaml": "id: p\ntasks:\n  a: { command: \"true\" }\n" } });
  const served = await h.call<Record<string, unknown>>("GET", "/api/openapi.json", { token: h.admin.token });
  expect(served.status).toBe(200);
  expect(served.body).toEqual(await openApiDocument());
}, 60_000);
