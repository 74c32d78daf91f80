/**
 * `capstan serve --model NAME@ALIAS`: the version an alias (or a number) names is fetched from the
 * registry's API as one archive into the model store and served; a model folder arrives zipped like
 * a .mar. Another team's model, an unknown alias and a malformed reference get clear errors.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/cli/client.js";
import { CAPSTAN_BIN } from "../support/build.js";
import { runCli } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";
import { writeMar } from "../serving/support/mar-builder.js";

const handler = (answer: string): string => `def handle(data, context):\n    return [{'version': '${answer}'} for _ in (data or [])]\n`;

let server: ServerHarness | undefined;
let serve: ChildProcess | undefined;
afterEach(async () => {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((resolve) => serve?.once("exit", resolve));
    serve.kill("SIGTERM");
    await exited;
  }
  serve = undefined;
  await server?.close();
  server = undefined;
});

/** Starts `capstan serve ARGS` and resolves with its inference URL once its models are ready. */
function startServe(args: readonly string[], cwd: string, env: Record<string, string>): Promise<{ inference: string; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAPSTAN_BIN, "serve", ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    serve = child;
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`capstan serve did not start\n${stderr}`)), 60_000);
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const match = /inference (http:\/\/\S+), management/.exec(stderr);
      if (match?.[1] && /worker\(s\) ready/.test(stderr)) {
        clearTimeout(timer);
        resolve({ inference: match[1], stderr: () => stderr });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`capstan serve exited with ${code}\n${stderr}`));
    });
  });
}

function properties(dir: string): string {
  const path = join(dir, "config.properties");
  writeFileSync(path, ["inference_address=http://127.0.0.1:0", "management_address=http://127.0.0.1:0", "metrics_address=http://127.0.0.1:0", "default_workers_per_model=1", "number_of_gpu=0"].join("\n"));
  return path;
}

describe("capstan serve --model NAME@ALIAS", () => {
  it("fetches the version the alias names through the API and serves it; a folder version arrives as one archive", async () => {
    server = await openServer({});
    const client = new HttpClient(server.url, server.admin.token);
    const dir = tempDir();
    writeMar(join(dir, "one.mar"), { modelName: "users", handler: "handler.py", files: { "handler.py": handler("one") } });
    mkdirSync(join(dir, "two", "MAR-INF"), { recursive: true });
    writeFileSync(join(dir, "two", "handler.py"), handler("two"));
    writeFileSync(join(dir, "two", "MAR-INF", "MANIFEST.json"), JSON.stringify({ runtime: "python", model: { modelName: "users", handler: "handler.py", modelVersion: "2.0" } }));
    await client.registerModel("users", join(dir, "one.mar"), { team: "ml" });
    await client.registerModel("users", join(dir, "two"), { team: "ml" });
    await client.setModelAlias("users", 2, "production");

    const store = join(dir, "store");
    const env = { CAPSTAN_HOME: join(dir, "client-home"), CAPSTAN_TOKEN: server.admin.token };
    const started = await startServe(["--server", server.url, "--model", "users@production", "--model-store", store, "--ts-config", properties(dir), "--disable-token-auth"], dir, env);
    expect(started.stderr()).toContain("model users@production: version 2");
    expect(readdirSync(store)).toEqual(["users-v2.mar"]);
    const answer = await fetch(`${started.inference}/predictions/users`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ version: "two" });

    const archive = await server.call("GET", "/api/models/users/versions/1/archive", { token: server.admin.token });
    expect(archive.status).toBe(200);
    expect(server.serverErrors).toEqual([]);
  });

  it("says which reference is wrong: unknown alias or version, another team's model, a malformed reference", async () => {
    server = await openServer({});
    const admin = new HttpClient(server.url, server.admin.token);
    const dir = tempDir();
    writeMar(join(dir, "one.mar"), { modelName: "users", handler: "handler.py", files: { "handler.py": handler("one") } });
    await admin.registerModel("users", join(dir, "one.mar"), { team: "ml" });
    const outsider = await server.user("olga", { other: "editor" });
    const env = { CAPSTAN_HOME: join(dir, "client-home") };

    const unknownAlias = await runCli(["--server", server.url, "serve", "--model", "users@production"], { cwd: dir, env: { ...env, CAPSTAN_TOKEN: server.admin.token } });
    expect(unknownAlias.code).toBe(2);
    expect(unknownAlias.stderr).toContain('--model users@production: version: model users has no version or alias "production"');
    const unknownVersion = await runCli(["--server", server.url, "serve", "--model", "users@7"], { cwd: dir, env: { ...env, CAPSTAN_TOKEN: server.admin.token } });
    expect(unknownVersion.stderr).toContain('has no version or alias "7"');
    const hidden = await runCli(["--server", server.url, "serve", "--model", "users@1"], { cwd: dir, env: { ...env, CAPSTAN_TOKEN: outsider.token } });
    expect(hidden.code).toBe(2);
    expect(hidden.stderr).toContain('--model users@1: name: no model "users"');
    for (const bad of ["users", "users@", "@1", "users@../x", "users@Prod"]) {
      const result = await runCli(["--server", server.url, "serve", "--model", bad], { cwd: dir, env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("expected NAME@ALIAS (users@production) or NAME@VERSION (users@3)");
    }
    expect(existsSync(join(dir, "key_file.json"))).toBe(false);

    expect((await server.call("GET", "/api/models/users/versions/1/archive", { token: outsider.token })).status).toBe(404);
    expect((await server.call("GET", "/api/models/users/versions/1/archive", {})).status).toBe(401);
    expect((await server.call("GET", "/api/models/users/versions/..%2F..%2Fcapstan.db/archive", { token: server.admin.token })).status).toBe(404);
    expect(server.serverErrors).toEqual([]);
  });
});
