/**
 * `capstan serve` answers TorchServe's inference, management and metrics APIs with real Python
 * workers: archives in the model store loaded at start, handlers as a class or module:function, the
 * context a handler sees, versions and set-default, scaling with worker pids, and pagination.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ECHO_HANDLER, FUNCTION_HANDLER } from "./support/handlers.js";
import { startServe, type ServeHarness } from "./support/serve-harness.js";

let serve: ServeHarness;

beforeAll(async () => {
  serve = await startServe({
    archives: {
      "echo.mar": { modelName: "echo", handler: "echo_handler.py", configFile: "model-config.yaml", files: { "echo_handler.py": ECHO_HANDLER, "model-config.yaml": "batchSize: 1\nmaxBatchDelay: 5\ncustom:\n  threshold: 0.5\n" } },
      "fn.mar": { modelName: "fn", handler: "fn_handler:handle", files: { "fn_handler.py": FUNCTION_HANDLER } },
      "echo2.mar": { modelName: "echo", modelVersion: "2.0", handler: "echo_handler.py", files: { "echo_handler.py": ECHO_HANDLER } },
    },
    models: ["echo=echo.mar", "fn.mar"],
    properties: { enable_model_api: "true" },
  });
  expect(serve.server.startupFailures).toEqual(new Map());
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

describe("inference API", () => {
  it("GET /ping is Healthy once the start-up models have their workers", async () => {
    const response = await serve.infer("/ping");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "Healthy" });
  });

  it("a JSON body reaches a class handler parsed, with the context TorchServe handlers read", async () => {
    const response = await serve.infer("/predictions/echo", { method: "POST", headers: { "content-type": "application/json", "x-client": "c1" }, body: JSON.stringify({ a: 1 }) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-echo")).toBe("yes");
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ echo: { a: 1 }, batch: 1, model: "echo", version: "1.0", gpu: null, batch_size: 1, header: "c1", explain: "False", config: { batchSize: 1, maxBatchDelay: 5, custom: { threshold: 0.5 } } });
  });

  it("multipart form fields become named inputs", async () => {
    const form = new FormData();
    form.set("data", new Blob([JSON.stringify({ b: 2 })], { type: "application/json" }), "x.json");
    const response = await serve.infer("/predictions/echo", { method: "POST", body: form });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { echo: unknown }).echo).toEqual({ b: 2 });
  });

  it("a module:function handler answers text; /explanations sets the explain header", async () => {
    const response = await serve.infer("/predictions/fn", { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("fn:hello");
    const explained = await serve.infer("/explanations/echo", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(((await explained.json()) as { explain: string }).explain).toBe("True");
  });

  it("the handler's per-request status reaches the client", async () => {
    const response = await serve.infer("/predictions/echo", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ status: 201 }) });
    expect(response.status).toBe(201);
  });

  it("a version in the path picks that version; KServe v1 and v2 routes reach the default", async () => {
    const v2 = await serve.infer("/predictions/echo/2.0", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(v2.status).toBe(404);
    const v1 = await serve.infer("/predictions/echo/1.0", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(((await v1.json()) as { version: string }).version).toBe("1.0");
    const kf1 = await serve.infer("/v1/models/echo:predict", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(kf1.status).toBe(200);
    const oip = await serve.infer("/v2/models/echo/infer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [] }) });
    expect(((await oip.json()) as { echo: unknown }).echo).toEqual({ inputs: [] });
    expect(await (await serve.infer("/v2/health/ready")).json()).toEqual({ ready: true });
    expect(await (await serve.infer("/v2/models/echo")).json()).toMatchObject({ name: "echo", versions: ["1.0"] });
  });

  it("an unknown model or version is a 404 with TorchServe's error body", async () => {
    const model = await serve.infer("/predictions/nope", { method: "POST", body: "x" });
    expect(model.status).toBe(404);
    expect(await model.json()).toEqual({ code: 404, type: "ModelNotFoundException", message: "Model not found: nope" });
    const version = await serve.infer("/predictions/echo/9.9", { method: "POST", body: "x" });
    expect(version.status).toBe(404);
    expect(await version.json()).toMatchObject({ code: 404, type: "ModelVersionNotFoundException" });
  });
});

describe("management API", () => {
  it("describes a model with its workers and their live pids", async () => {
    const response = await serve.manage("/models/echo");
    expect(response.status).toBe(200);
    const [description] = (await response.json()) as Array<Record<string, unknown> & { workers: Array<{ pid: number; status: string; memoryUsage: number }> }>;
    expect(description).toMatchObject({ modelName: "echo", modelVersion: "1.0", modelUrl: "echo.mar", runtime: "python", minWorkers: 1, batchSize: 1, maxBatchDelay: 5, responseTimeout: 120, loadedAtStartup: true });
    expect(description!.workers).toHaveLength(1);
    const worker = description!.workers[0]!;
    expect(worker.status).toBe("READY");
    expect(() => process.kill(worker.pid, 0)).not.toThrow();
    expect(worker.memoryUsage).toBeGreaterThan(0);
  });

  it("registers a second version from the model store, sets it default, and lists all versions", async () => {
    const registered = await serve.manage("/models?url=echo2.mar&initial_workers=1&synchronous=true", { method: "POST" });
    expect(registered.status).toBe(200);
    expect(((await registered.json()) as { status: string }).status).toContain("registered with 1 initial workers");
    const again = await serve.manage("/models?url=echo2.mar&initial_workers=1", { method: "POST" });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 409, type: "ConflictStatusException" });
    const all = (await (await serve.manage("/models/echo/all")).json()) as Array<{ modelVersion: string }>;
    expect(all.map((d) => d.modelVersion).sort()).toEqual(["1.0", "2.0"]);
    const setDefault = await serve.manage("/models/echo/2.0/set-default", { method: "PUT" });
    expect(setDefault.status).toBe(200);
    const answer = await serve.infer("/predictions/echo", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(((await answer.json()) as { version: string }).version).toBe("2.0");
    expect((await serve.manage("/models/echo/1.0", { method: "DELETE" })).status).toBe(200);
    expect((await serve.infer("/predictions/echo/1.0", { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("scales a model up and down; describe shows the new workers' pids", async () => {
    const up = await serve.manage("/models/fn?min_worker=2&synchronous=true", { method: "PUT" });
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: "Workers scaled to 2 for model: fn" });
    const [described] = (await (await serve.manage("/models/fn")).json()) as Array<{ workers: Array<{ pid: number }> }>;
    expect(new Set(described!.workers.map((w) => w.pid)).size).toBe(2);
    const down = await serve.manage("/models/fn?min_worker=1", { method: "PUT" });
    expect(down.status).toBe(202);
    expect(await down.json()).toEqual({ status: "Processing worker updates..." });
  });

  it("lists models in pages with nextPageToken", async () => {
    const first = (await (await serve.manage("/models?limit=1")).json()) as { nextPageToken?: string; models: Array<{ modelName: string }> };
    expect(first.models.map((m) => m.modelName)).toEqual(["echo"]);
    expect(first.nextPageToken).toBe("1");
    const second = (await (await serve.manage(`/models?limit=1&next_page_token=${first.nextPageToken}`)).json()) as { nextPageToken?: string; models: Array<{ modelName: string }> };
    expect(second).toEqual({ models: [{ modelName: "fn", modelUrl: "fn.mar" }] });
  });
});

describe("metrics", () => {
  it("serves TorchServe's frontend metrics on the metrics port without configuration", async () => {
    await serve.infer("/predictions/fn", { method: "POST", headers: { "content-type": "text/plain" }, body: "m" });
    const text = await (await fetch(`${serve.server.urls.metrics}/metrics`)).text();
    expect(text).toMatch(/ts_inference_requests_total\{model_name="fn",model_version="default",hostname="[^"]+"\} \d+/);
    expect(text).toMatch(/ts_inference_latency_microseconds\{model_name="fn"/);
    expect(text).toMatch(/ts_queue_latency_microseconds\{model_name="fn"/);
  });
});
