/**
 * Deployments through the API (the record; the controller's side is in deployments-local.test.ts):
 * created at an alias they follow, moved when it moves, rolled back by moving it back, scaled and
 * deleted by editors; other teams get 404, viewers 403, no session 401; bad input names the field.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient, InProcessClient } from "../../src/cli/client.js";
import { loadConfig } from "../../src/config/index.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";
import { writeMar } from "./support/mar-builder.js";

const HANDLER = "def handle(data, context):\n    return [{'ok': True} for _ in (data or [])]\n";

let server: ServerHarness | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function registry(client: HttpClient | InProcessClient): Promise<void> {
  const dir = tempDir();
  for (const n of [1, 2, 3]) {
    const path = join(dir, `m${n}.mar`);
    writeMar(path, { modelName: "users", handler: "handler.py", files: { "handler.py": HANDLER, "n.txt": String(n) } });
    await client.registerModel("users", path, { team: "ml" });
  }
  await client.setModelAlias("users", 1, "production");
}

describe("deployments over HTTP", () => {
  it("follow their alias, roll back by moving it back, pin versions, scale and delete", async () => {
    server = await openServer({});
    const client = new HttpClient(server.url, server.admin.token);
    await registry(client);

    const created = await client.createDeployment({ name: "users-prod", model: "users", ref: "production", replicas: 2 });
    expect(created).toMatchObject({ name: "users-prod", team: "ml", model: "users", ref: "production", version: 1, previous_version: null, replicas: 2, target: "local", state: "pending", replica_status: [] });
    const pinned = await client.createDeployment({ name: "users-pinned", model: "users", ref: "2" });
    expect(pinned).toMatchObject({ version: 2, replicas: 1 });

    await client.setModelAlias("users", 3, "production");
    expect(await client.getDeployment("users-prod")).toMatchObject({ version: 3, previous_version: 1, state: "pending" });
    expect(await client.getDeployment("users-pinned")).toMatchObject({ version: 2, previous_version: null });

    const rolled = await client.rollbackDeployment("users-prod");
    expect(rolled).toMatchObject({ version: 1, previous_version: 3 });
    expect((await client.getModel("users")).aliases).toEqual({ production: 1 });
    await expect(client.rollbackDeployment("users-pinned")).rejects.toThrow("name: deployment users-pinned has served only version 2; there is nothing to roll back to");

    expect(await client.scaleDeployment("users-prod", 0)).toMatchObject({ replicas: 0 });
    expect((await client.listDeployments({ model: "users" })).map((d) => d.name)).toEqual(["users-pinned", "users-prod"]);
    expect(await client.deleteDeployment("users-prod")).toMatchObject({ state: "deleting" });
    expect(server.serverErrors).toEqual([]);
  });

  it("hides other teams' deployments and models (404), lets viewers read only (403) and needs a session (401)", async () => {
    server = await openServer({});
    const admin = new HttpClient(server.url, server.admin.token);
    await registry(admin);
    await admin.createDeployment({ name: "users-prod", model: "users", ref: "production" });
    const outsider = await server.user("olga", { other: "editor" });
    const viewer = await server.user("vic", { ml: "viewer" });
    const editor = await server.user("eve", { ml: "editor" });

    for (const [method, path, body] of [
      ["GET", "/api/deployments/users-prod", undefined],
      ["GET", "/api/deployments/users-prod/key", undefined],
      ["PUT", "/api/deployments/users-prod/replicas", { replicas: 3 }],
      ["POST", "/api/deployments/users-prod/rollback", {}],
      ["DELETE", "/api/deployments/users-prod", undefined],
      ["POST", "/api/deployments", { name: "mine", model: "users", ref: "production" }],
    ] as const) {
      const asOutsider = await server.call<{ error: { message: string } }>(method, path, { token: outsider.token, ...(body ? { body } : {}) });
      expect(asOutsider.status, `${method} ${path}`).toBe(404);
      expect(asOutsider.body.error.message).not.toContain("ml");
      expect((await server.call(method, path, { token: viewer.token, ...(body ? { body } : {}) })).status, `${method} ${path} as viewer`).toBe(method === "GET" && !path.endsWith("/key") ? 200 : 403);
      expect((await server.call(method, path, body ? { body } : {})).status, `${method} ${path} without a session`).toBe(401);
    }
    expect((await server.call<{ deployments: unknown[] }>("GET", "/api/deployments", { token: outsider.token })).body.deployments).toEqual([]);
    expect((await server.call<{ deployments: unknown[] }>("GET", "/api/deployments", { token: viewer.token })).body.deployments).toHaveLength(1);
    expect((await server.call("PUT", "/api/deployments/users-prod/replicas", { token: editor.token, body: { replicas: 3 } })).status).toBe(200);
    // The inference key: editors read it (not cached); it is in no other answer.
    const key = await server.call<{ key: string; header: string }>("GET", "/api/deployments/users-prod/key", { token: editor.token });
    expect(key.status).toBe(200);
    expect(key.body.key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(key.body.header).toBe(`Authorization: Bearer ${key.body.key}`);
    expect(key.headers.get("cache-control")).toBe("no-store");
    expect((await server.call("GET", "/api/deployments/users-prod/key", { token: editor.token })).body).toEqual(key.body);
    for (const path of ["/api/deployments", "/api/deployments/users-prod", "/api/deployments?model=users"]) expect(JSON.stringify((await server.call("GET", path, { token: editor.token })).body)).not.toContain(key.body.key);
    for (const path of ["/api/deployments/users-prod/key/..", "/api/deployments/..%2Fusers-prod/key", "/api/deployments/users-prod%2F..%2Fother/key"]) {
      expect((await server.call("GET", path, { token: editor.token })).status, path).not.toBe(200);
      expect((await server.call("GET", path, { token: outsider.token })).status, path).not.toBe(200);
    }
    // The create form's choices: any signed-in user, no session 401.
    expect((await server.call("GET", "/api/deployment-targets", { token: viewer.token })).body).toEqual({ targets: ["local"], clusters: [] });
    expect((await server.call("GET", "/api/deployment-targets", {})).status).toBe(401);
    expect(server.serverErrors).toEqual([]);
  });

  it("refuses bad input with errors that name the field", async () => {
    server = await openServer({});
    const client = new HttpClient(server.url, server.admin.token);
    await registry(client);
    await client.createDeployment({ name: "users-prod", model: "users", ref: "production" });
    const create = (body: Record<string, unknown>) => server!.call<{ error: { message: string } }>("POST", "/api/deployments", { token: server!.admin.token, body: { name: "d", model: "users", ref: "production", ...body } });

    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ name: "Users Prod" }, 400, 'name: "Users Prod" is not a deployment name'],
      [{ name: "../etc" }, 400, 'name: "../etc" is not a deployment name'],
      [{ name: "users-prod" }, 409, 'name: the deployment name "users-prod" is taken'],
      [{ ref: "canary" }, 404, 'version: model users has no version or alias "canary"'],
      [{ ref: "9" }, 404, 'version: model users has no version or alias "9"'],
      [{ model: "nope" }, 404, 'name: no model "nope"'],
      [{ replicas: 99 }, 400, "replicas: 99 is not a replica count; use a whole number from 0 to 32"],
      [{ replicas: -1 }, 400, "replicas: -1 is not a replica count"],
      [{ target: "kubernetes" }, 400, "cluster: no Kubernetes cluster is configured"],
      [{ cluster: "gpu" }, 400, "cluster: cluster and namespace are for target kubernetes"],
      [{ gpus: 1 }, 400, "gpus: local replicas take the machine's GPUs"],
      [{ cpu: "lots" }, 400, 'cpu: "lots" is not a Kubernetes quantity'],
      [{ token_auth: "no" }, 400, "token_auth"],
    ];
    for (const [body, status, message] of cases) {
      const answer = await create(body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.error.message).toContain(message);
    }
    expect((await server.call("POST", "/api/deployments", { token: server.admin.token, body: { name: "d", model: "users", ref: "production", extra: 1 } })).status).toBe(400);
    expect((await server.call("PUT", "/api/deployments/users-prod/replicas", { token: server.admin.token, body: { replicas: 33 } })).status).toBe(400);
    expect((await server.call("PUT", "/api/deployments/users-prod/replicas", { token: server.admin.token, body: { replicas: "2" } })).status).toBe(400);
    expect((await server.call("GET", "/api/deployments/..%2F..%2Fetc", { token: server.admin.token })).status).toBe(404);
    expect(server.serverErrors).toEqual([]);
  });
});

describe("deployments in process", () => {
  it("are recorded on the home, where capstan up's controller finds them", async () => {
    const dir = tempDir();
    const client = new InProcessClient(loadConfig({ home: join(dir, "home"), pipelines: [] }, {}, dir));
    try {
      await registry(client);
      expect(await client.createDeployment({ name: "users-prod", model: "users", ref: "production" })).toMatchObject({ team: "ml", version: 1, created_by: null });
      expect((await client.listDeployments()).map((d) => d.name)).toEqual(["users-prod"]);
      await expect(client.getDeployment("other")).rejects.toThrow('name: no deployment "other"');
    } finally {
      await client.close();
    }
  });
});
