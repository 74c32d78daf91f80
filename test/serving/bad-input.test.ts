/**
 * Bad archives and bad requests get TorchServe-shaped errors and leave the server and its other
 * models serving; the checks an attacker would try against token auth and url= are refused.
 */
import { writeFileSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ECHO_HANDLER } from "./support/handlers.js";
import { writeMar } from "./support/mar-builder.js";
import { startServe, type ServeHarness } from "./support/serve-harness.js";

let serve: ServeHarness;

const register = (query: string) => serve.manage(`/models?${query}`, { method: "POST" });

async function stillServing(): Promise<void> {
  const response = await serve.infer("/predictions/good", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  serve = await startServe({
    archives: { "good.mar": { modelName: "good", handler: "echo_handler.py", files: { "echo_handler.py": ECHO_HANDLER } } },
    models: ["good.mar"],
    properties: { enable_model_api: "true" },
  });
  const store = serve.store;
  writeFileSync(join(store, "not-a-zip.mar"), "this is not a zip archive");
  writeMar(join(store, "truncated.mar"), { modelName: "t", handler: "h.py", files: { "h.py": "x" } });
  const { readFileSync } = await import("node:fs");
  writeFileSync(join(store, "truncated.mar"), readFileSync(join(store, "truncated.mar")).subarray(0, 40));
  writeMar(join(store, "no-version.mar"), { modelName: "nov", handler: "h.py", files: { "h.py": "" }, manifest: { runtime: "python", model: { modelName: "nov", handler: "h.py" } } });
  writeMar(join(store, "no-model.mar"), { modelName: "x", handler: "h.py", files: { "h.py": "" }, manifest: { runtime: "python" } });
  writeMar(join(store, "bad-json.mar"), { modelName: "x", handler: "h.py", files: { "h.py": "" }, manifest: "{not json" });
  writeMar(join(store, "import-error.mar"), { modelName: "imperr", handler: "h.py", files: { "h.py": "import module_that_does_not_exist\n" } });
  writeMar(join(store, "init-raises.mar"), { modelName: "initraise", handler: "h.py", files: { "h.py": "class H:\n    def initialize(self, ctx):\n        raise RuntimeError('weights missing')\n    def handle(self, data, ctx):\n        return data\n" } });
  writeMar(join(store, "good-copy.mar"), { modelName: "good", handler: "echo_handler.py", files: { "echo_handler.py": ECHO_HANDLER } });
  const { zip } = await import("./support/mar-builder.js");
  writeFileSync(join(store, "slip.mar"), zip([["../escape.py", Buffer.from("x")], ["MAR-INF/MANIFEST.json", Buffer.from("{}")]]));
  mkdirSync(join(serve.store, "..", "outside"));
  writeMar(join(serve.store, "..", "outside", "outside.mar"), { modelName: "outside", handler: "echo_handler.py", files: { "echo_handler.py": ECHO_HANDLER } });
  symlinkSync(join(serve.store, "..", "outside", "outside.mar"), join(store, "link.mar"));
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

describe("bad archives", () => {
  it.each([
    ["not-a-zip.mar", /not a zip archive/],
    ["truncated.mar", /not a usable model archive/],
    ["no-version.mar", /modelVersion/],
    ["no-model.mar", /no model object/],
    ["bad-json.mar", /not valid JSON/],
    ["slip.mar", /leads outside/],
  ])("%s is refused with 400 InvalidModelException and the others keep serving", async (file, message) => {
    const response = await register(`url=${file}&initial_workers=1`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: number; type: string; message: string };
    expect(body).toMatchObject({ code: 400, type: "InvalidModelException" });
    expect(body.message).toMatch(message);
    await stillServing();
  });

  it("a handler that fails to import is refused with the Python error, and is not left registered", async () => {
    const response = await register("url=import-error.mar&initial_workers=1");
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string };
    expect(body.message).toMatch(/ModuleNotFoundError: No module named 'module_that_does_not_exist'/);
    expect((await serve.manage("/models/imperr")).status).toBe(404);
    await stillServing();
  });

  it("a handler whose initialize raises is refused with its message", async () => {
    const response = await register("url=init-raises.mar&initial_workers=1");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/RuntimeError: weights missing/);
    await stillServing();
  });

  it("a name and version already registered is 409", async () => {
    const response = await register("url=good-copy.mar&initial_workers=1");
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 409, type: "ConflictStatusException" });
  });

  it("a register call without url is 400; an unknown model for scale, set-default and delete is 404", async () => {
    expect(await (await register("model_name=x")).json()).toEqual({ code: 400, type: "BadRequestException", message: "Parameter url is required." });
    expect((await serve.manage("/models/nope?min_worker=1", { method: "PUT" })).status).toBe(404);
    expect((await serve.manage("/models/good/9.9/set-default", { method: "PUT" })).status).toBe(404);
    expect((await serve.manage("/models/nope", { method: "DELETE" })).status).toBe(404);
    expect((await serve.manage("/models/good?min_worker=abc", { method: "PUT" })).status).toBe(400);
  });
});

describe("bad requests", () => {
  it("a body the handler rejects answers 503 Prediction failed and the worker keeps serving", async () => {
    const response = await serve.infer("/predictions/good", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ fail: true }) });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ code: 503, type: "InternalServerException", message: "Prediction failed" });
    await stillServing();
  });

  it("an unknown route is 404 ResourceNotFoundException", async () => {
    const response = await serve.infer("/nothing/here");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 404, type: "ResourceNotFoundException" });
  });
});

describe("security", () => {
  const wrong = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

  it("inference and management need their own key: none, a wrong one, or the other API's key is refused", async () => {
    const keys = serve.server.keys!;
    for (const init of [{ headers: { authorization: "" } }, wrong("nope"), wrong(keys.key("management")), { headers: { authorization: keys.key("inference") } }]) {
      const response = await serve.infer("/predictions/good", { method: "POST", body: "{}", ...init });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 400, type: "InvalidKeyException" });
    }
    for (const init of [{ headers: { authorization: "" } }, wrong(keys.key("inference")), wrong(keys.key("API"))]) {
      expect((await serve.manage("/models", init)).status).toBe(400);
      expect((await serve.manage("/models?url=good-copy.mar", { method: "POST", ...init })).status).toBe(400);
    }
    expect((await serve.infer("/ping", { headers: { authorization: "" } })).status).toBe(200);
  });

  it("the API key renews the inference key; the old one stops working at once", async () => {
    const keys = serve.server.keys!;
    const old = keys.key("inference");
    expect((await serve.manage("/token?type=inference", wrong(keys.key("management")))).status).toBe(400);
    expect((await serve.manage("/token?type=inference", wrong(keys.key("API")))).status).toBe(200);
    expect(keys.key("inference")).not.toBe(old);
    expect((await serve.infer("/predictions/good", { method: "POST", body: "{}", ...wrong(old) })).status).toBe(400);
    await stillServing();
  });

  it.each([
    ["../outside/outside.mar", /Relative paths/],
    ["..%2Foutside%2Foutside.mar", /Relative paths/],
    ["link.mar", /not in the model store/],
    ["/etc/passwd", /not in the model store/],
    ["file:///etc/passwd", /allowed_urls/],
    ["http://127.0.0.1:1/x.mar", /allowed_urls/],
    ["https://example.com/x.mar", /allowed_urls/],
  ])("url=%s is refused (404 ModelNotFoundException)", async (url, message) => {
    const response = await register(`url=${encodeURIComponent(decodeURIComponent(url))}&initial_workers=1`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { type: string; message: string };
    expect(body.type).toBe("ModelNotFoundException");
    expect(body.message).toMatch(message);
  });
});
