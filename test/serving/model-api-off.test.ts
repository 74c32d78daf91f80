/** With TorchServe's defaults (enable_model_api off), registering and deleting models is refused with 405; with token auth off no key is needed. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startServe, type ServeHarness } from "./support/serve-harness.js";

let serve: ServeHarness;

beforeAll(async () => {
  serve = await startServe({ disableTokenAuth: true });
});

afterAll(async () => {
  await serve?.stop();
});

it("POST /models and DELETE /models/{m} answer 405 when enable_model_api is not set", async () => {
  const post = await serve.manage("/models?url=x.mar", { method: "POST" });
  expect(post.status).toBe(405);
  expect(await post.json()).toMatchObject({ code: 405, type: "MethodNotAllowedException" });
  expect((await serve.manage("/models/x", { method: "DELETE" })).status).toBe(405);
});

it("--disable-token-auth serves without keys and writes no key file", async () => {
  expect(serve.server.keys).toBeUndefined();
  expect((await fetch(`${serve.server.urls.management}/models`)).status).toBe(200);
});
