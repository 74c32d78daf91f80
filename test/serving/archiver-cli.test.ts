/**
 * Archives built by the real `torch-model-archiver` CLI (installed beside torchserve by
 * scripts/setup-python.sh --test) are served by `capstan serve`: a default .mar with extra files and
 * a config file, loaded at start with TorchServe's `--models` flag, a `no-archive` folder, and a
 * `zip-store` archive and a `tgz` archive registered through the management API.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServeConfig, startModelServer, type ModelServer } from "../../src/serving/index.js";
import { python } from "./support/serve-harness.js";

const ARCHIVER = join(dirname(python), "torch-model-archiver");

/** A handler with no TorchServe imports that reads its extra file and its YAML config. */
const LABEL_HANDLER = `
import json, os

class LabelHandler:
    def initialize(self, context):
        model_dir = context.system_properties["model_dir"]
        with open(os.path.join(model_dir, "index_to_name.json")) as f:
            self.names = json.load(f)
        self.threshold = context.model_yaml_config["handler"]["threshold"]

    def handle(self, data, context):
        out = []
        for row in data:
            score = row["body"]["score"]
            out.append({
                "label": self.names["1" if score >= self.threshold else "0"],
                "model": context.model_name,
                "version": context.manifest["model"]["modelVersion"],
                "batch_size": context.system_properties["batch_size"],
            })
        return out
`;

const FUNCTION_HANDLER = "def handle(data, context):\n    if data is None:\n        return None\n    return [{'fn': context.model_name} for _ in data]\n";

let dir: string;
let store: string;
let server: ModelServer;

function archive(args: string[]): void {
  execFileSync(ARCHIVER, [...args, "--export-path", store], { cwd: join(dir, "src"), stdio: "pipe" });
}

const predict = (model: string, body: unknown) =>
  fetch(`${server.urls.inference}/predictions/${model}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${server.keys!.key("inference")}` }, body: JSON.stringify(body) });

const manage = (path: string, method = "GET") => fetch(`${server.urls.management}${path}`, { method, headers: { authorization: `Bearer ${server.keys!.key("management")}` } });

beforeAll(async () => {
  if (!existsSync(ARCHIVER)) throw new Error(`${ARCHIVER} is missing: run scripts/setup-python.sh --test, which installs torch-model-archiver into the venv`);
  dir = mkdtempSync(join(tmpdir(), "capstan-archiver-test-"));
  store = join(dir, "model-store");
  mkdirSync(store);
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "label_handler.py"), LABEL_HANDLER);
  writeFileSync(join(dir, "src", "fn_handler.py"), FUNCTION_HANDLER);
  writeFileSync(join(dir, "src", "index_to_name.json"), JSON.stringify({ "0": "low", "1": "high" }));
  writeFileSync(join(dir, "src", "model-config.yaml"), "batchSize: 4\nmaxBatchDelay: 20\nhandler:\n  threshold: 0.5\n");
  archive(["--model-name", "labels", "--version", "1.0", "--handler", "label_handler.py", "--extra-files", "index_to_name.json", "--config-file", "model-config.yaml"]);
  archive(["--model-name", "folder", "--version", "1.0", "--handler", "fn_handler:handle", "--archive-format", "no-archive"]);
  archive(["--model-name", "stored", "--version", "3.0", "--handler", "label_handler.py", "--extra-files", "index_to_name.json", "--config-file", "model-config.yaml", "--archive-format", "zip-store"]);
  archive(["--model-name", "packed", "--version", "1.0", "--handler", "fn_handler:handle", "--archive-format", "tgz"]);
  writeFileSync(join(dir, "config.properties"), ["inference_address=http://127.0.0.1:0", "management_address=http://127.0.0.1:0", "metrics_address=http://127.0.0.1:0", "default_workers_per_model=1", "number_of_gpu=0", "enable_model_api=true"].join("\n"));
  // As `capstan serve --model-store model-store --models labels=labels.mar folder --ts-config config.properties` would.
  const config = loadServeConfig({ modelStore: store, models: ["labels=labels.mar", "folder"], tsConfig: join(dir, "config.properties") }, python, dir);
  server = await startModelServer(config, { log: () => undefined });
  expect(server.startupFailures).toEqual(new Map());
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("archives made by torch-model-archiver", () => {
  it("a default .mar loaded at start answers with its extra file and the config file's settings", async () => {
    const answers = await Promise.all([0.9, 0.1].map((score) => predict("labels", { score })));
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as Array<{ label: string; model: string; version: string; batch_size: number }>;
    expect(bodies.map((b) => b.label)).toEqual(["high", "low"]);
    expect(bodies[0]).toMatchObject({ model: "labels", version: "1.0", batch_size: 4 });
    const [description] = (await (await manage("/models/labels")).json()) as Array<Record<string, unknown>>;
    expect(description).toMatchObject({ modelName: "labels", modelVersion: "1.0", modelUrl: "labels.mar", batchSize: 4, maxBatchDelay: 20 });
  });

  it("a no-archive folder in the model store is served like a .mar", async () => {
    const response = await predict("folder", {});
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ fn: "folder" });
  });

  it("a zip-store archive registered through the management API answers", async () => {
    const registered = await manage("/models?url=stored.mar&initial_workers=1&synchronous=true", "POST");
    expect(registered.status).toBe(200);
    const response = await predict("stored", { score: 0.7 });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ label: "high", model: "stored", version: "3.0" });
  });

  it("a tgz archive (its files in a folder named after the model) registered through the management API answers", async () => {
    const registered = await manage("/models?url=packed.tar.gz&initial_workers=1&synchronous=true", "POST");
    expect(registered.status, await registered.clone().text()).toBe(200);
    const response = await predict("packed", {});
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ fn: "packed" });
  });
});
