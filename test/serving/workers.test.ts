/**
 * Worker behaviour under load and failure, with real Python workers: dynamic batching, the bounded
 * queue (503 when full), response timeouts (500 "Worker died." and a new worker), a worker that dies
 * mid-request, and streamed answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ECHO_HANDLER, FUNCTION_HANDLER } from "./support/handlers.js";
import { startServe, type ServeHarness } from "./support/serve-harness.js";

let serve: ServeHarness;

const post = (model: string, body: string, type = "text/plain") => serve.infer(`/predictions/${model}`, { method: "POST", headers: { "content-type": type }, body });

async function workerPids(model: string): Promise<number[]> {
  const [description] = (await (await serve.manage(`/models/${model}`)).json()) as Array<{ workers: Array<{ pid: number; status: string }> }>;
  return description!.workers.filter((w) => w.status === "READY").map((w) => w.pid);
}

async function waitForReady(model: string, notPid: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const pids = await workerPids(model);
    if (pids.length > 0 && !pids.includes(notPid)) return pids[0]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no new worker for ${model}`);
}

beforeAll(async () => {
  serve = await startServe({
    archives: {
      "batched.mar": { modelName: "batched", handler: "echo_handler.py", configFile: "config.yaml", files: { "echo_handler.py": ECHO_HANDLER, "config.yaml": "batchSize: 4\nmaxBatchDelay: 300\n" } },
      "slow.mar": { modelName: "slow", handler: "fn_handler:handle", configFile: "config.yaml", files: { "fn_handler.py": FUNCTION_HANDLER, "config.yaml": "responseTimeout: 1\n" } },
      "queued.mar": { modelName: "queued", handler: "fn_handler:handle", files: { "fn_handler.py": FUNCTION_HANDLER } },
    },
    models: ["batched.mar", "slow.mar", "queued.mar"],
    properties: { job_queue_size: "2" },
  });
  expect(serve.server.startupFailures).toEqual(new Map());
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

describe("batching", () => {
  it("requests that arrive within max_batch_delay reach the handler as one batch of batch_size", async () => {
    const answers = await Promise.all([1, 2, 3, 4].map((n) => post("batched", JSON.stringify({ n }), "application/json")));
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as Array<{ batch: number; echo: { n: number }; batch_size: number }>;
    expect(bodies.map((b) => b.echo.n)).toEqual([1, 2, 3, 4]);
    expect(bodies.every((b) => b.batch === 4 && b.batch_size === 4)).toBe(true);
  });

  it("a lone request waits max_batch_delay for company, then goes alone", async () => {
    const started = Date.now();
    const body = (await (await post("batched", "{}", "application/json")).json()) as { batch: number };
    expect(body.batch).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe("queue bound", () => {
  it("when job_queue_size requests wait, the next one is refused with 503 at once", async () => {
    const busy = post("queued", "sleep 1.5");
    await new Promise((r) => setTimeout(r, 300));
    const waiting = [post("queued", "a"), post("queued", "b")];
    await new Promise((r) => setTimeout(r, 100));
    const refused = await post("queued", "c");
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 503, type: "ServiceUnavailableException" });
    expect((await busy).status).toBe(200);
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 200]);
  });
});

describe("timeouts and dead workers", () => {
  it("a request past response_timeout is answered 500 Worker died. and a new worker takes over", async () => {
    const [before] = await workerPids("slow");
    const response = await post("slow", "sleep 5");
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ code: 500, type: "InternalServerException", message: "Worker died." });
    const after = await waitForReady("slow", before!);
    expect(after).not.toBe(before);
    expect(await (await post("slow", "again")).text()).toBe("fn:again");
  });

  it("a worker that exits mid-request gets its request answered and is replaced", async () => {
    const [before] = await workerPids("queued");
    const response = await post("queued", "exit");
    expect(response.status).toBe(500);
    expect(((await response.json()) as { message: string }).message).toBe("Worker died.");
    await waitForReady("queued", before!);
    expect(await (await post("queued", "ok")).text()).toBe("fn:ok");
    expect(serve.log.some((line) => /ended; a new one starts in/.test(line))).toBe(true);
  });
});

describe("streaming", () => {
  it("intermediate answers arrive as chunks of one response, ended by the handler's return value", async () => {
    const response = await post("queued", "stream");
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const chunks: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value).toString());
    }
    expect(chunks.join("")).toBe("one two three");
    expect(response.headers.get("transfer-encoding")).toBe("chunked");
  });
});
