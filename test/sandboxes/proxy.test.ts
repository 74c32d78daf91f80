/**
 * The sandbox proxy's security rules, over HTTP and over the WebSocket upgrade, against real
 * JupyterLab and real kernels: only the owner who opened the sandbox from the platform gets in;
 * another user, a platform cookie alone, an unauthenticated WebSocket, a used or foreign code and a
 * WebSocket from another origin are refused; Capstan's cookies and Authorization never reach the
 * sandbox and identity headers are Capstan's; unauthenticated traffic keeps nothing alive.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../../src/auth/index.js";
import { SandboxProxy } from "../../src/sandboxes/index.js";
import { execute, openKernelSocket } from "./jupyter-client.js";
import { openSandboxWorld, type SandboxWorld } from "./sandbox-fixture.js";

interface ProxyWorld {
  world: SandboxWorld;
  proxy: SandboxProxy;
  server: Server;
  port: number;
}

let current: ProxyWorld | undefined;
afterEach(async () => {
  if (!current) return;
  current.proxy.close();
  current.server.closeAllConnections();
  await new Promise((resolve) => current!.server.close(resolve));
  await current.world.close();
  current = undefined;
});

async function openProxyWorld(): Promise<ProxyWorld> {
  const world = await openSandboxWorld({ service: { activityWriteMs: 0 } });
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy = new SandboxProxy({ service: world.service, auth: world.auth, port, credentialCheckMs: 0 });
  server.on("request", (req, res) => {
    if (proxy.handles(req)) proxy.handleRequest(req, res);
    else res.writeHead(404).end("platform");
  });
  server.on("upgrade", (req, socket, head) => {
    if (proxy.handles(req)) proxy.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  current = { world, proxy, server, port };
  return current;
}

/** An HTTP request to the test server with the Host of a sandbox origin. */
function send(port: number, url: string, headers: Record<string, string> = {}, method = "GET", body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: target.pathname + target.search, method, headers: { host: target.host, ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Starts a kernel through the proxy (fetch cannot send a sandbox's Host header). */
async function startKernelVia(p: ProxyWorld, id: string, cookie: string): Promise<string> {
  const answer = await send(p.port, `${p.proxy.origins.originOf(id)}/api/kernels`, { cookie, origin: p.proxy.origins.originOf(id), "content-type": "application/json" }, "POST", JSON.stringify({ name: "python3" }));
  expect(answer.status).toBe(201);
  return (JSON.parse(answer.body) as { id: string }).id;
}

/** Opens a sandbox as the platform would: the code, then the cookie the sandbox origin sets. */
async function signIn(p: ProxyWorld, principal: Principal, id: string): Promise<string> {
  const open = await p.proxy.openUrl(principal, id);
  const answer = await send(p.port, open);
  expect(answer.status).toBe(303);
  expect(answer.headers.location).toBe("/lab");
  const setCookie = answer.headers["set-cookie"]?.[0] ?? "";
  expect(setCookie).toMatch(/HttpOnly/);
  expect(setCookie).not.toMatch(/Domain=/i);
  return setCookie.split(";")[0]!;
}

/** The base URL the ws client dials, with the sandbox's Host header. */
function wsOptions(p: ProxyWorld, id: string, headers: Record<string, string> = {}) {
  return { headers: { host: new URL(p.proxy.origins.originOf(id)).host, ...headers } };
}

describe("sandbox proxy", () => {
  it("lets the owner in through a one-time code, over HTTP and a kernel WebSocket, and refuses everyone else", async () => {
    const p = await openProxyWorld();
    const ann = await p.world.user("ann", { ml: "editor" });
    const bob = await p.world.user("bob", { ml: "editor" });
    const { id } = await p.world.service.create(ann, { name: "lab" });
    const bobs = await p.world.service.create(bob, { name: "lab" });
    await p.world.service.start(ann, id);
    await p.world.service.start(bob, bobs.id);
    const origin = p.proxy.origins.originOf(id);
    expect(origin).toBe(`http://${id}.localhost:${p.port}`);

    await expect(p.proxy.openUrl(bob, id)).rejects.toThrow(/only its owner can open it/);
    const open = await p.proxy.openUrl(ann, id);
    const annCookie = await signIn(p, ann, id);
    const bobCookie = await signIn(p, bob, bobs.id);

    // HTTP: the owner gets JupyterLab (without the upstream token in the page); others get 401.
    const lab = await send(p.port, `${origin}/lab`, { cookie: annCookie });
    expect(lab.status).toBe(200);
    expect(lab.body).not.toContain((await p.world.service.target(id))!.token);
    expect((await send(p.port, `${origin}/api/status`)).status).toBe(401);
    expect((await send(p.port, `${origin}/api/status`, { cookie: bobCookie })).status).toBe(401);
    expect((await send(p.port, `${origin}/api/status`, { cookie: "capstan_session=whatever" })).status).toBe(401);
    expect((await send(p.port, `${origin}/api/status`, { authorization: `token ${(await p.world.service.target(id))!.token}` })).status).toBe(401);
    // A code works once, and only on its own sandbox's origin.
    expect((await send(p.port, open.replace(id, bobs.id))).status).toBe(401);
    expect((await send(p.port, open)).status).toBe(401);
    const fresh = await p.proxy.openUrl(ann, id);
    expect((await send(p.port, fresh)).status).toBe(303);
    expect((await send(p.port, fresh)).status).toBe(401);

    // WebSocket: the owner runs a cell through the proxy; no cookie, another user's cookie or another origin is refused.
    const base = `http://127.0.0.1:${p.port}/`;
    const kernel = await startKernelVia(p, id, annCookie);
    const socket = await openKernelSocket(base, kernel, wsOptions(p, id, { cookie: annCookie, origin }));
    expect((await execute(socket, "1+1")).trim()).toBe("2");
    socket.close();
    await expect(openKernelSocket(base, kernel, wsOptions(p, id))).rejects.toMatchObject({ status: 401 });
    await expect(openKernelSocket(base, kernel, wsOptions(p, id, { cookie: bobCookie }))).rejects.toMatchObject({ status: 401 });
    await expect(openKernelSocket(base, kernel, wsOptions(p, id, { cookie: annCookie, origin: p.proxy.origins.originOf(bobs.id) }))).rejects.toMatchObject({ status: 403 });

    // A revoked platform credential ends the sandbox session at once.
    await p.world.auth.revokeToken(ann, ann.credentialId);
    expect((await send(p.port, `${origin}/api/status`, { cookie: annCookie })).status).toBe(401);
  });

  it("never forwards Capstan's cookies or Authorization, and sets the identity headers itself", async () => {
    const p = await openProxyWorld();
    const ann = await p.world.user("ann", { ml: "editor" });
    const { id } = await p.world.service.create(ann, { name: "lab" });
    await p.world.service.start(ann, id);
    const annCookie = await signIn(p, ann, id);
    const origin = p.proxy.origins.originOf(id);
    const seen = await send(p.port, `${origin}/api/me`, {
      cookie: `${annCookie}; capstan_session=platform-secret; _xsrf=keep`,
      "x-capstan-user": "mallory",
      "x-forwarded-user": "mallory",
    });
    expect(seen.status).toBe(200);
    const me = JSON.parse(seen.body) as { identity: { username: string } };
    // The upstream accepted Capstan's token (it answers /api/me only to an authenticated caller).
    expect(me.identity.username).toBeTruthy();
    const socket = await openKernelSocket(`http://127.0.0.1:${p.port}/`, await startKernelVia(p, id, annCookie), wsOptions(p, id, { cookie: annCookie, origin }));
    const kernelSeen = await execute(socket, "import os; print(sorted(k for k in os.environ if 'CAPSTAN' in k and k not in ('CAPSTAN_SANDBOX_ID', 'CAPSTAN_ATTEMPT_TOKEN')))");
    socket.close();
    expect(kernelSeen.trim()).toBe("[]");
  });

  it("does not let unauthenticated traffic keep a sandbox alive", async () => {
    const p = await openProxyWorld();
    const ann = await p.world.user("ann", { ml: "editor" });
    const { id } = await p.world.service.create(ann, { name: "lab" });
    await p.world.service.start(ann, id);
    const before = (await p.world.store.sandboxes.get(id))!.lastActivity;
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 0; i < 5; i++) expect((await send(p.port, `${p.proxy.origins.originOf(id)}/api/status`, { cookie: "capstan_sandbox=forged" })).status).toBe(401);
    await expect(openKernelSocket(`http://127.0.0.1:${p.port}/`, "x", wsOptions(p, id))).rejects.toMatchObject({ status: 401 });
    expect((await p.world.store.sandboxes.get(id))!.lastActivity).toBe(before);
    const annCookie = await signIn(p, ann, id);
    expect((await send(p.port, `${p.proxy.origins.originOf(id)}/api/status`, { cookie: annCookie })).status).toBe(200);
    expect((await p.world.store.sandboxes.get(id))!.lastActivity).toBeGreaterThan(before);
  });
});
