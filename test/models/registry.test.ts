/**
 * The model registry against a real API server (and the in-process client on a home): versions
 * registered from a .mar or a model folder are copied and hashed, lineage comes from the run and
 * task, aliases move, other teams see 404, and bad input gets errors that name the field.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient, InProcessClient } from "../../src/cli/client.js";
import { loadConfig } from "../../src/config/index.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";
import { writeMar } from "../serving/support/mar-builder.js";

const HANDLER = "def handle(data, context):\n    return [{'ok': True} for _ in (data or [])]\n";

// A task that writes a model folder into the run's artifacts and reports it with a metric.
const PIPELINES = {
  "train.yaml": `id: train
team: ml
params:
  factors: { type: integer, default: 8 }
tasks:
  publish:
    command: >-
      mkdir -p "$CAPSTAN_ARTIFACTS_DIR/model/MAR-INF" &&
      printf 'def handle(data, context):\\n    return data\\n' > "$CAPSTAN_ARTIFACTS_DIR/model/handler.py" &&
      printf '{"runtime": "python", "model": {"modelName": "m", "handler": "handler.py", "modelVersion": "1.0"} }' > "$CAPSTAN_ARTIFACTS_DIR/model/MAR-INF/MANIFEST.json" &&
      printf '{"model_dir": "%s", "precision": 0.93}' "$CAPSTAN_ARTIFACTS_DIR/model" > "$CAPSTAN_OUTPUT"
`,
};

let server: ServerHarness | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function mar(dir: string, name = "m.mar"): string {
  const path = join(dir, name);
  writeMar(path, { modelName: "users", handler: "handler.py", files: { "handler.py": HANDLER } });
  return path;
}

describe("the model registry over HTTP", () => {
  it("registers versions with lineage, copies and hashes them, and moves aliases", async () => {
    server = await openServer({ pipelines: PIPELINES });
    const client = new HttpClient(server.url, server.admin.token);
    const dir = tempDir();

    const first = await client.registerModel("users", mar(dir), { team: "ml" });
    expect(first).toMatchObject({ name: "users", version: 1, kind: "mar", run_id: null, task_id: null, params: null, metrics: null, aliases: [] });
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.artifact_path.startsWith(server.platform.config.home)).toBe(true);
    expect(readFileSync(first.artifact_path)).toEqual(readFileSync(join(dir, "m.mar")));

    const run = await client.trigger("train", { factors: 16 }, {});
    const final = await client.waitForRun(run.id, () => undefined);
    expect(final.state).toBe("success");
    const outputs = (await client.getTask(run.id, "publish")).outputs as { model_dir: string };
    const second = await client.registerModel("users", outputs.model_dir, { run: run.id, task: "publish" });
    expect(second).toMatchObject({ version: 2, kind: "dir", run_id: run.id, task_id: "publish", params: { factors: 16 }, metrics: { precision: 0.93 } });
    expect(existsSync(join(second.artifact_path, "MAR-INF", "MANIFEST.json"))).toBe(true);

    await client.setModelAlias("users", 1, "staging");
    const detail = await client.setModelAlias("users", 2, "production");
    expect(detail).toMatchObject({ name: "users", team: "ml", latest_version: 2, aliases: { staging: 1, production: 2 } });
    expect(detail.versions.map((v) => v.aliases)).toEqual([["staging"], ["production"]]);
    await client.setModelAlias("users", 1, "production");
    expect((await client.getModel("users")).aliases).toEqual({ staging: 1, production: 1 });

    const byAlias = await server.call<{ version: number }>("GET", "/api/models/users/versions/production", { token: server.admin.token });
    expect(byAlias.status).toBe(200);
    expect(byAlias.body.version).toBe(1);
    expect(await client.listModels()).toEqual([expect.objectContaining({ name: "users", team: "ml", latest_version: 2 })]);
    expect(server.serverErrors).toEqual([]);
  });

  it("hides another team's models (404) and lets only editors register and move aliases", async () => {
    server = await openServer({ pipelines: PIPELINES });
    const dir = tempDir();
    const admin = new HttpClient(server.url, server.admin.token);
    await admin.registerModel("users", mar(dir), { team: "ml" });
    const outsider = await server.user("olga", { other: "editor" });
    const viewer = await server.user("vic", { ml: "viewer" });

    expect((await server.call("GET", "/api/models/users", { token: outsider.token })).status).toBe(404);
    expect((await server.call<{ models: unknown[] }>("GET", "/api/models", { token: outsider.token })).body.models).toEqual([]);
    expect((await server.call("PUT", "/api/models/users/aliases/production", { token: outsider.token, body: { version: 1 } })).status).toBe(404);
    expect((await server.call("GET", "/api/models/users", { token: viewer.token })).status).toBe(200);
    expect((await server.call("PUT", "/api/models/users/aliases/production", { token: viewer.token, body: { version: 1 } })).status).toBe(403);
    expect((await server.call("POST", "/api/models/users/versions", { token: viewer.token, body: { path: join(dir, "m.mar"), team: "ml" } })).status).toBe(403);
    // The name is taken by team ml: another team's editor cannot add versions to it.
    const taken = await server.call<{ error: { message: string } }>("POST", "/api/models/users/versions", { token: outsider.token, body: { path: join(dir, "m.mar"), team: "other" } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toContain("name:");
    expect(server.serverErrors).toEqual([]);
  });

  it("refuses bad input with errors that name the field", async () => {
    server = await openServer({ pipelines: PIPELINES });
    const dir = tempDir();
    const client = new HttpClient(server.url, server.admin.token);
    writeFileSync(join(dir, "notes.txt"), "not a zip");
    mkdirSync(join(dir, "empty"));
    await expect(client.getModel("nope")).rejects.toThrow('name: no model "nope"');
    await expect(client.registerModel("users", join(dir, "notes.txt"), {})).rejects.toThrow(/^path: .*notes\.txt is not a model archive/);
    await expect(client.registerModel("users", join(dir, "empty"), {})).rejects.toThrow(/^path: .*empty is not a model archive/);
    await expect(client.registerModel("users", join(dir, "missing.mar"), {})).rejects.toThrow(/^path: .*missing\.mar does not exist/);
    await expect(client.registerModel("bad name!", mar(dir), {})).rejects.toThrow(/^name: "bad name!" is not a model name/);
    await expect(client.registerModel("users", join(server.platform.config.home, "capstan.db"), {})).rejects.toThrow(/^path: .* is inside the Capstan home/);
    await expect(client.registerModel("users", mar(dir), { run: "no-such-run" })).rejects.toThrow('no run "no-such-run"');
    await client.registerModel("users", mar(dir), {});
    await expect(client.setModelAlias("users", 7, "production")).rejects.toThrow("version: model users has no version 7");
    await expect(client.setModelAlias("users", 1, "Prod!")).rejects.toThrow(/^alias: "Prod!" is not an alias name/);
    expect((await server.call("GET", "/api/models/users/versions/9", { token: server.admin.token })).status).toBe(404);
    expect(server.serverErrors).toEqual([]);
  });
});

describe("the model registry in process", () => {
  it("registers, lists, shows and aliases on the home", async () => {
    const dir = tempDir();
    const client = new InProcessClient(loadConfig({ home: join(dir, "home"), pipelines: [] }, {}, dir));
    try {
      const version = await client.registerModel("users", mar(dir), {});
      expect(version).toMatchObject({ name: "users", version: 1, kind: "mar" });
      await client.setModelAlias("users", 1, "production");
      expect(await client.listModels()).toEqual([expect.objectContaining({ name: "users", team: "default", latest_version: 1, aliases: { production: 1 } })]);
      await expect(client.getModel("other")).rejects.toThrow('name: no model "other"');
    } finally {
      await client.close();
    }
  });
});
