/**
 * Handlers written against TorchServe's Python package (`ts.*`) run under `capstan serve` when the
 * `torchserve` package is in the worker's venv (scripts/setup-python.sh --test installs it, without
 * torch): the handler imports `ts.context`, `ts.utils.util` and `ts.metrics`, loads its label map
 * the stock way, and raises TorchServe's own PredictionException. A stock handler that needs torch
 * is refused at register with a message that names torch.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { python, startServe, type ServeHarness } from "./support/serve-harness.js";

/** A class handler in the style of TorchServe's examples, importing only what runs without torch. */
const TS_HANDLER = `
import os
import sys
import ts
from ts.context import Context
from ts.metrics.metric_type_enum import MetricTypes
from ts.utils.util import PredictionException, load_label_mapping, map_class_to_label
from ts.version import __version__ as torchserve_version


class LabelHandler:
    def initialize(self, context: Context):
        model_dir = context.system_properties.get("model_dir")
        self.mapping = load_label_mapping(os.path.join(model_dir, "index_to_name.json"))
        self.initialized = True

    def handle(self, data, context: Context):
        context.metrics.add_counter("LabelRequests", len(data), None, metric_type=MetricTypes.COUNTER)
        probs = []
        for row in data:
            body = row.get("body")
            if isinstance(body, dict) and body.get("reject"):
                raise PredictionException("input rejected: " + body["reject"], 422)
            probs.append(body["probs"])
        return [
            {"labels": labels, "torchserve": torchserve_version, "ts_package": os.path.dirname(ts.__file__),
             "torch_imported": "torch" in sys.modules}
            for labels in map_class_to_label(probs, self.mapping)
        ]
`;

let serve: ServeHarness;

const predict = (body: unknown) => serve.infer("/predictions/labels", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

beforeAll(async () => {
  try {
    execFileSync(python, ["-c", "import ts.context, ts.utils.util"], { stdio: "pipe" });
  } catch (error) {
    throw new Error(`${python} cannot import TorchServe's Python package (ts): run scripts/setup-python.sh --test, which installs torchserve into the venv\n${String(error)}`);
  }
  serve = await startServe({
    archives: {
      "labels.mar": { modelName: "labels", handler: "label_handler.py", files: { "label_handler.py": TS_HANDLER, "index_to_name.json": JSON.stringify({ "0": "cat", "1": "dog" }) } },
      "stock.mar": { modelName: "stock", handler: "image_classifier", files: {} },
    },
    models: ["labels.mar"],
    properties: { enable_model_api: "true" },
  });
  expect(serve.server.startupFailures).toEqual(new Map());
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

describe("handlers that import ts.*", () => {
  it("answer with TorchServe's own helpers, imported from the torchserve package in the worker's venv", async () => {
    const response = await predict({ probs: [0.9, 0.1] });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { labels: Record<string, number>; torchserve: string; ts_package: string; torch_imported: boolean };
    expect(body.labels).toEqual({ cat: 0.9, dog: 0.1 });
    expect(body.torchserve).toBe("0.12.0");
    expect(body.ts_package).toContain("site-packages");
    // The worker patches TorchServe's streaming helper only when a handler imports it, so a handler
    // that needs no torch does not load it even where torch is installed (the bench's anchor venv).
    expect(body.torch_imported).toBe(false);
  });

  it("TorchServe's PredictionException answers with its own code and message, and the worker keeps serving", async () => {
    const response = await predict({ reject: "no probabilities" });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ code: 422, message: "input rejected: no probabilities" });
    expect((await predict({ probs: [0.2, 0.8] })).status).toBe(200);
  });

  it("metrics reported with TorchServe's MetricTypes reach the server's log", async () => {
    await predict({ probs: [0.5, 0.5] });
    for (let i = 0; i < 50 && !serve.log.some((line) => line.includes("[METRICS]LabelRequests.count:1")); i++) await new Promise((r) => setTimeout(r, 100));
    expect(serve.log.some((line) => line.includes("[METRICS]LabelRequests.count:1|#ModelName:labels"))).toBe(true);
  });

  // The project's venv has neither torch nor torchvision (the bench's anchor venv has torch only): the
  // stock image_classifier cannot import in either.
  it("a stock handler that needs torch(vision) is refused at register with 400, naming the module, and the others keep serving", async () => {
    const response = await serve.manage("/models?url=stock.mar&initial_workers=1&synchronous=true", { method: "POST" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: number; type: string; message: string };
    expect(body).toMatchObject({ code: 400, type: "InvalidModelException" });
    expect(body.message).toMatch(/built-in handler 'image_classifier' could not be imported: No module named 'torch(vision)?'/);
    expect((await serve.manage("/models/stock")).status).toBe(404);
    expect((await predict({ probs: [1, 0] })).status).toBe(200);
  });
});
