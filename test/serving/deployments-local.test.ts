/**
 * Local deployments made so by the deployment controller (as `capstan up` runs it): N real
 * `capstan serve` replicas on their own ports answer the version the alias names; when the alias
 * moves they roll one at a time with the wanted count always answering; rollback, scale and delete
 * work; a version whose handler fails to load leaves the old replicas serving and says why. The
 * replicas ask for the deployment's inference key (kept 0600, never on their command line or in
 * their logs) unless it was created without token authorization.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/cli/client.js";
import { ModelStorage } from "../../src/models/index.js";
import type { DeploymentView } from "../../src/operations/index.js";
import { DeploymentController } from "../../src/serving/deployments/index.js";
import { capstanCommand, taskBaseEnv } from "../../src/wiring/index.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";
import { writeMar } from "./support/mar-builder.js";
import { python } from "./support/serve-harness.js";

const handler = (answer: string): string => `def handle(data, context):\n    return [{'version': '${answer}'} for _ in (data or [])]\n`;

let server: ServerHarness | undefined;
let controller: DeploymentController | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  await server?.close();
  server = undefined;
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(view: DeploymentView, key?: string): Promise<string[]> {
  return Promise.all(
    view.replica_status
      .filter((r) => r.state === "ready")
      .map(async (r) => {
        const answer = await fetch(`${r.url!}/predictions/users`, { method: "POST", headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: "{}" });
        if (answer.status !== 200) throw new Error(`replica ${r.replica} answered ${answer.status}: ${await answer.text()}`);
        return ((await answer.json()) as { version: string }).version;
      }),
  );
}

describe("local deployments", () => {
  it("run N capstan serve replicas, roll them one by one when the alias moves, roll back, scale and delete", async () => {
    server = await openServer({});
    const client = new HttpClient(server.url, server.admin.token);
    const dir = tempDir();
    for (const [n, answer] of [[1, "one"], [2, "two"]] as const) {
      writeMar(join(dir, `m${n}.mar`), { modelName: "users", handler: "handler.py", files: { "handler.py": handler(answer) } });
      await client.registerModel("users", join(dir, `m${n}.mar`), { team: "ml" });
    }
    await client.setModelAlias("users", 1, "production");
    await client.createDeployment({ name: "users-prod", model: "users", ref: "production", replicas: 2 });
    const { key } = await client.deploymentKey("users-prod");
    controller = new DeploymentController({ store: server.platform.store, home: server.platform.config.home, command: capstanCommand(), env: { ...taskBaseEnv(), CAPSTAN_PYTHON: python }, log: { info: () => undefined, warn: () => undefined }, intervalMs: 100 });
    controller.start();

    const until = async (done: (view: DeploymentView) => boolean, watch?: (view: DeploymentView) => void): Promise<DeploymentView> => {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const view = await client.getDeployment("users-prod");
        watch?.(view);
        if (done(view)) return view;
        if (Date.now() > deadline) throw new Error(`deployment did not settle: ${JSON.stringify(view)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const first = await until((v) => v.state === "ready");
    expect(first.replica_status).toHaveLength(2);
    expect(new Set(first.replica_status.map((r) => r.url)).size).toBe(2);
    expect(await answers(first, key)).toEqual(["one", "one"]);
    // Token authorization: without the key, or with another, TorchServe's 400 InvalidKeyException; the key stays off command lines and logs.
    const url = first.replica_status[0]!.url!;
    for (const authorization of [undefined, "Bearer wrong-key-0123456789abcdef", `Bearer ${key}x`]) {
      const refused = await fetch(`${url}/predictions/users`, { method: "POST", headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) }, body: "{}" });
      expect(refused.status, authorization).toBe(400);
      expect(await refused.text()).toContain("InvalidKeyException");
    }
    const folder = join(server.platform.config.home, "deployments", "users-prod");
    expect(statSync(join(folder, "inference.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(folder, "inference.key"), "utf8").trim()).toBe(key);
    for (const pid of first.replica_status.map((r) => r.pid!)) expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(key);
    for (const log of readdirSync(folder).filter((f) => f.endsWith(".log"))) expect(readFileSync(join(folder, log), "utf8")).not.toContain(key);
    expect(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })).not.toContain(key);
    const oldPids = first.replica_status.map((r) => r.pid!);

    // The alias moves: at every moment seen, at least 2 replicas are ready, and there are never more than 3.
    await client.setModelAlias("users", 2, "production");
    let fewestReady = 2;
    let most = 2;
    const rolled = await until(
      (v) => v.state === "ready" && v.version === 2,
      (v) => {
        fewestReady = Math.min(fewestReady, v.replica_status.filter((r) => r.state === "ready").length);
        most = Math.max(most, v.replica_status.length);
      },
    );
    expect(fewestReady).toBe(2);
    expect(most).toBe(3);
    expect(rolled).toMatchObject({ version: 2, previous_version: 1 });
    expect(await answers(rolled, key)).toEqual(["two", "two"]);
    expect(oldPids.filter(alive)).toEqual([]);

    await client.rollbackDeployment("users-prod");
    const back = await until((v) => v.state === "ready" && v.version === 1);
    expect(await answers(back, key)).toEqual(["one", "one"]);

    await client.scaleDeployment("users-prod", 1);
    const scaled = await until((v) => v.state === "ready" && v.replica_status.length === 1);
    const lastPid = scaled.replica_status[0]!.pid!;
    await client.deleteDeployment("users-prod");
    const deadline = Date.now() + 30_000;
    while ((await client.listDeployments()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await client.listDeployments()).toEqual([]);
    expect(alive(lastPid)).toBe(false);
    expect(server.serverErrors).toEqual([]);
  }, 240_000);

  it("keeps the old replicas serving when the new version cannot start, and says why", async () => {
    server = await openServer({});
    const client = new HttpClient(server.url, server.admin.token);
    const dir = tempDir();
    writeMar(join(dir, "good.mar"), { modelName: "users", handler: "handler.py", files: { "handler.py": handler("one") } });
    writeMar(join(dir, "bad.mar"), { modelName: "users", handler: "handler.py", files: { "handler.py": "import no_such_module\n" } });
    await client.registerModel("users", join(dir, "good.mar"), { team: "ml" });
    await client.registerModel("users", join(dir, "bad.mar"), { team: "ml" });
    await client.setModelAlias("users", 1, "production");
    // Without token authorization the replicas answer without a key.
    await client.createDeployment({ name: "users-prod", model: "users", ref: "production", replicas: 1, token_auth: false });
    controller = new DeploymentController({ store: server.platform.store, home: server.platform.config.home, command: capstanCommand(), env: { ...taskBaseEnv(), CAPSTAN_PYTHON: python }, log: { info: () => undefined, warn: () => undefined }, intervalMs: 100 });
    controller.start();
    const wait = async (done: (view: DeploymentView) => boolean): Promise<DeploymentView> => {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const view = await client.getDeployment("users-prod");
        if (done(view)) return view;
        if (Date.now() > deadline) throw new Error(`deployment did not get there: ${JSON.stringify(view)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await wait((v) => v.state === "ready");
    await client.setModelAlias("users", 2, "production");
    const failed = await wait((v) => v.state === "failed");
    expect(failed.message).toMatch(/^replica \d+: could not load users-v2\.mar: /);
    expect(await answers(failed)).toEqual(["one"]);
  }, 150_000);

  it("serves a version the registry keeps on the team's volume (models.store)", async () => {
    const volumeRoot = join(tempDir(), "ml-models");
    mkdirSync(volumeRoot);
    server = await openServer({
      configure: (config) => {
        config.volumes = { "ml-models": { kind: "local", team: "ml", path: volumeRoot } };
        config.modelStores = { ml: "ml-models" };
      },
    });
    const client = new HttpClient(server.url, server.admin.token);
    const dir = tempDir();
    writeMar(join(dir, "m.mar"), { modelName: "users", handler: "handler.py", files: { "handler.py": handler("on-volume") } });
    const version = await client.registerModel("users", join(dir, "m.mar"), { team: "ml" });
    expect(version.artifact_path).toMatch(/^ml-models:models\/users\//);
    await client.createDeployment({ name: "users-vol", model: "users", ref: "1", replicas: 1 });
    const { key } = await client.deploymentKey("users-vol");
    const { home } = server.platform.config;
    const storage = new ModelStorage({ home, volumes: server.platform.volumes, stores: { ml: "ml-models" } });
    controller = new DeploymentController({ store: server.platform.store, home, command: capstanCommand(), env: { ...taskBaseEnv(), CAPSTAN_PYTHON: python }, log: { info: () => undefined, warn: () => undefined }, intervalMs: 100, archiveOf: (path, kind) => storage.archive(path, kind) });
    controller.start();
    const deadline = Date.now() + 90_000;
    let view = await client.getDeployment("users-vol");
    while (view.state !== "ready") {
      if (Date.now() > deadline) throw new Error(`deployment did not get ready: ${JSON.stringify(view)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = await client.getDeployment("users-vol");
    }
    expect(await answers(view, key)).toEqual(["on-volume"]);
  }, 150_000);
});
