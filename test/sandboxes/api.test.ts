/**
 * The sandbox API as an attacker and as its owner would use it, against a real server, store and
 * JupyterLab: no credential is 401, another team's sandbox is 404 on every route, a team's viewer
 * sees but cannot create or start, crafted names and ids are refused naming the field, quotas and
 * confirmations hold; the owner creates, starts, opens through the one-time URL on the sandbox's
 * own origin (served on the API's port), reaches JupyterLab there, stops and deletes.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

interface SandboxBody {
  id: string;
  name: string;
  owner: string;
  team: string;
  state: string;
  reason: string | null;
  stops_at: string | null;
}
interface ErrorBody {
  error: { code: string; message: string; details?: { field?: string } };
}

let h: ServerHarness;
let alice: TestUser;
let bob: TestUser;
let vera: TestUser;

beforeAll(async () => {
  h = await openServer({
    configure: (config) => {
      config.sandboxes = { profiles: { cpu: { idle_timeout: "1h" }, big: { gpu: 1 } }, default_profile: "cpu", quotas: { web: { sandboxes: 3 } } };
    },
  });
  for (const team of ["ml", "web"]) await h.auth.createTeam(team, null);
  alice = await h.user("alice", { ml: "editor" });
  bob = await h.user("bob", { web: "editor" });
  vera = await h.user("vera", { ml: "viewer" });
}, 60_000);

afterAll(async () => {
  if (!h) return;
  for (const row of await h.platform.store.sandboxes.list({ states: ["starting", "running", "stopping"] })) await h.platform.sandboxes.stopIdle(row.id);
  await h.close();
});

/** An HTTP request to the server with the Host of a sandbox origin (fetch cannot set Host). */
function sendToOrigin(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(url);
  const port = new URL(h.url).port;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: target.pathname + target.search, headers: { host: target.host, ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function create(user: TestUser, name: string, extra: Record<string, string> = {}): Promise<SandboxBody> {
  const answer = await h.call<SandboxBody>("POST", "/api/sandboxes", { token: user.token, body: { name, ...extra } });
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

describe("sandbox API access", () => {
  it("answers 401 to every sandbox route without a credential", async () => {
    const sandbox = await create(alice, "anon-target");
    for (const [method, path] of [
      ["GET", "/api/sandboxes"],
      ["POST", "/api/sandboxes"],
      ["GET", `/api/sandboxes/${sandbox.id}`],
      ["POST", `/api/sandboxes/${sandbox.id}/start`],
      ["POST", `/api/sandboxes/${sandbox.id}/stop`],
      ["POST", `/api/sandboxes/${sandbox.id}/open`],
      ["DELETE", `/api/sandboxes/${sandbox.id}`],
    ] as const) {
      const answer = await h.call(method, path, method === "GET" ? {} : { body: {} });
      expect(answer.status, `${method} ${path}`).toBe(401);
    }
    expect(await h.platform.store.sandboxes.get(sandbox.id)).toMatchObject({ state: "stopped" });
  });

  it("answers 404 to another team's user on every route, and leaves the sandbox alone", async () => {
    const sandbox = await create(alice, "private");
    const list = await h.call<{ sandboxes: SandboxBody[] }>("GET", "/api/sandboxes", { token: bob.token });
    expect(list.body.sandboxes.map((s) => s.id)).not.toContain(sandbox.id);
    expect((await h.call("GET", "/api/sandboxes?team=ml", { token: bob.token })).status).toBe(404);
    for (const [method, path, body] of [
      ["GET", `/api/sandboxes/${sandbox.id}`, undefined],
      ["POST", `/api/sandboxes/${sandbox.id}/start`, {}],
      ["POST", `/api/sandboxes/${sandbox.id}/stop`, {}],
      ["POST", `/api/sandboxes/${sandbox.id}/open`, undefined],
      ["DELETE", `/api/sandboxes/${sandbox.id}`, { confirm: "private" }],
    ] as const) {
      const answer = await h.call<ErrorBody>(method, path, { token: bob.token, ...(body ? { body } : {}) });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error.message).not.toContain("alice");
    }
    expect(await h.platform.store.sandboxes.get(sandbox.id)).toMatchObject({ state: "stopped" });
    // Creating in a team one is not in reads as a team that does not exist.
    expect((await h.call("POST", "/api/sandboxes", { token: bob.token, body: { name: "intruder", team: "ml" } })).status).toBe(404);
  });

  it("lets a team's viewer see its sandboxes but not create, start or open one", async () => {
    const sandbox = await create(alice, "seen");
    const list = await h.call<{ sandboxes: SandboxBody[] }>("GET", "/api/sandboxes?team=ml", { token: vera.token });
    expect(list.body.sandboxes.map((s) => s.id)).toContain(sandbox.id);
    expect((await h.call("GET", `/api/sandboxes/${sandbox.id}`, { token: vera.token })).status).toBe(200);
    expect((await h.call("POST", "/api/sandboxes", { token: vera.token, body: { name: "mine", team: "ml" } })).status).toBe(403);
    expect((await h.call("POST", `/api/sandboxes/${sandbox.id}/start`, { token: vera.token })).status).toBe(403);
    expect((await h.call("POST", `/api/sandboxes/${sandbox.id}/open`, { token: vera.token })).status).toBe(403);
    expect((await h.call("DELETE", `/api/sandboxes/${sandbox.id}`, { token: vera.token, body: { confirm: "seen" } })).status).toBe(403);
    // mine=true is the caller's own.
    const mine = await h.call<{ sandboxes: SandboxBody[] }>("GET", "/api/sandboxes?mine=true", { token: vera.token });
    expect(mine.body.sandboxes).toEqual([]);
  });
});

describe("sandbox API input", () => {
  it("refuses crafted names, naming the field, and never normalises one into another", async () => {
    for (const name of ["Lab", "l\u0430b", "../home", "a/b", "", "-x", "x".repeat(33), "lab\u0000", "<script>"]) {
      const answer = await h.call<ErrorBody>("POST", "/api/sandboxes", { token: alice.token, body: { name } });
      expect(answer.status, JSON.stringify(name)).toBe(400);
      if (!name.includes("\u0000")) expect(answer.body.error.details?.field, JSON.stringify(name)).toBe("name");
    }
    const upper = await h.call<ErrorBody>("POST", "/api/sandboxes", { token: alice.token, body: { name: "Lab" } });
    expect(upper.body.error.message).toContain('did you mean "lab"');
    await create(alice, "twice");
    const again = await h.call<ErrorBody>("POST", "/api/sandboxes", { token: alice.token, body: { name: "twice" } });
    expect(again.status).toBe(409);
    expect(again.body.error.details?.field).toBe("name");
  });

  it("refuses ids that are not sandbox ids before looking anything up", async () => {
    for (const id of ["..%2F..%2Fetc", "S" + "a".repeat(16), "sAAAAAAAAAAAAAAAA", "s" + "a".repeat(40)]) {
      expect((await h.call("GET", `/api/sandboxes/${id}`, { token: alice.token })).status, id).toBe(400);
    }
    expect((await h.call("GET", `/api/sandboxes/s${"a".repeat(16)}`, { token: alice.token })).status).toBe(404);
  });

  it("names the profile that does not exist or asks for a GPU this machine lacks", async () => {
    const unknown = await h.call<ErrorBody>("POST", "/api/sandboxes", { token: bob.token, body: { name: "gpu-box", profile: "huge" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details?.field).toBe("profile");
    expect(unknown.body.error.message).toContain("cpu, big");
    const gpu = await h.call<ErrorBody>("POST", "/api/sandboxes", { token: bob.token, body: { name: "gpu-box", profile: "big" } });
    expect(gpu.status).toBe(400);
    expect(gpu.body.error.message).toContain("GPU");
    const profiles = await h.call<{ profiles: { name: string; default: boolean }[] }>("GET", "/api/sandboxes/profiles", { token: bob.token });
    expect(profiles.body.profiles.map((p) => [p.name, p.default])).toEqual([["cpu", true], ["big", false]]);
  });

  it("holds the team's quota (kind quota, field quota.sandboxes)", async () => {
    await create(bob, "one");
    await create(bob, "two");
    await create(bob, "three");
    const over = await h.call<ErrorBody>("POST", "/api/sandboxes", { token: bob.token, body: { name: "four" } });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe("quota_exceeded");
    expect(over.body.error.details?.field).toBe("quota.sandboxes");
  });
});

describe("a sandbox's life through the API", () => {
  it("is created, started, opened on its own origin, stopped and deleted only with its name", { timeout: 120_000 }, async () => {
    const sandbox = await create(alice, "lab");
    const started = await h.call<SandboxBody>("POST", `/api/sandboxes/${sandbox.id}/start`, { token: alice.token });
    expect(started.status, started.text).toBe(200);
    expect(started.body.state, started.body.reason ?? "").toBe("running");
    expect(started.body.stops_at).not.toBeNull();

    const open = await h.call<{ url: string }>("POST", `/api/sandboxes/${sandbox.id}/open`, { token: alice.token });
    expect(open.status, open.text).toBe(200);
    const url = new URL(open.body.url);
    expect(url.host).toBe(`${sandbox.id}.localhost:${new URL(h.url).port}`);
    expect(url.pathname).toBe("/_capstan/open");

    // Without the cookie the sandbox origin refuses; the platform's API is not reachable there.
    expect((await sendToOrigin(`${url.origin}/api/contents`)).status).toBe(401);
    expect((await sendToOrigin(`${url.origin}/api/sandboxes`, { authorization: `Bearer ${alice.token}` })).status).toBe(401);
    const redeemed = await sendToOrigin(url.href);
    expect(redeemed.status).toBe(303);
    const cookie = String(redeemed.headers["set-cookie"]).split(";")[0]!;
    const contents = await sendToOrigin(`${url.origin}/api/contents`, { cookie });
    expect(contents.status, contents.body).toBe(200);
    // The code is used up.
    expect((await sendToOrigin(url.href)).status).toBe(401);

    const running = await h.call<ErrorBody>("DELETE", `/api/sandboxes/${sandbox.id}`, { token: alice.token, body: { confirm: "lab" } });
    expect(running.status).toBe(409);
    const stopped = await h.call<SandboxBody>("POST", `/api/sandboxes/${sandbox.id}/stop`, { token: alice.token });
    expect(stopped.body.state).toBe("stopped");
    expect((await sendToOrigin(`${url.origin}/api/contents`, { cookie })).status).toBe(503);
    expect((await h.call<ErrorBody>("POST", `/api/sandboxes/${sandbox.id}/open`, { token: alice.token })).status).toBe(409);

    const unconfirmed = await h.call<ErrorBody>("DELETE", `/api/sandboxes/${sandbox.id}`, { token: alice.token, body: { confirm: "LAB" } });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.error.details?.field).toBe("confirm");
    expect((await h.call("DELETE", `/api/sandboxes/${sandbox.id}`, { token: alice.token, body: { confirm: "lab" } })).status).toBe(204);
    expect((await h.call("GET", `/api/sandboxes/${sandbox.id}`, { token: alice.token })).status).toBe(404);
    expect(h.serverErrors).toEqual([]);
  });
});
