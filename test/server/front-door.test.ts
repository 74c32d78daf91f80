/**
 * The API's front door, against a real server: authentication and CSRF decided on the route that
 * runs whatever the URL's spelling, login limiting under parallel guesses and rotating forwarded
 * addresses, tokens revoked by a password change, load errors shown only within the file's team,
 * and NUL bytes in params refused at the door.
 */
import { request as httpRequest } from "node:http";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { routesOf } from "../../src/server/index.js";
import { openServer, type ServerHarness, type ServerHarnessOptions } from "./support/server-harness.js";

const PIPELINES = {
  "alpha.yaml": `id: alpha
team: team-a
params:
  msg: { type: string, default: "hi" }
tasks:
  hello: { command: "echo hello {{ params.msg }}" }
`,
  "beta.yaml": `id: beta
team: team-b
tasks:
  hi: { command: "echo hi from beta" }
`,
};

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function open(options: ServerHarnessOptions = {}): Promise<ServerHarness> {
  h = await openServer({ pipelines: PIPELINES, ...options });
  return h;
}

interface RawAnswer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Sends a request with the path exactly as given (fetch would normalise `..`, `#` and case-insensitive parts away). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Spellings of one API path that a router, a proxy or a browser may read as that path. */
function spellings(path: string): string[] {
  const rest = path.slice("/api".length);
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16)}`;
  return [
    path,
    `/%61pi${rest}`,
    `/%41%50%49${rest}`,
    `/%2561pi${rest}`,
    path.replace(/\/([a-z])/g, (_all, c: string) => `/${hex(c)}`),
    path.replace(/[a-z]/g, (c) => hex(c)),
    `/api%2F${rest.slice(1)}`,
    `/${path.slice(1).replaceAll("/", "%2F")}`,
    `/${path}`,
    `/api/${rest}`,
    path.replaceAll("/", "//"),
    `${path}?`,
    `${path}#`,
    `${path}?#`,
    `${path}#fragment`,
    `${path}?x=1#y`,
    `/API${rest}`,
    `/Api${rest}`,
    path.toUpperCase(),
    `/api/../api${rest}`,
    `/api/./${rest.slice(1)}`,
    `/x/..${path}`,
    `/api/%2e%2e/api${rest}`,
    `/api/%2E/${rest.slice(1)}`,
    `/api/x/%2e%2e${rest}`,
    `${path}/`,
    `${path};x=1`,
    `/api\\${rest.slice(1)}`,
  ];
}

/** A URL for a route pattern: every parameter (`:id`, `*`) filled with a plain value. */
function concrete(pattern: string): string {
  return pattern.replace(/:[A-Za-z_]+/g, "x").replace(/\*/g, "x");
}

/** A web UI build, so that page fallbacks are served as in `capstan up`. */
function webRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "capstan-web-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), "<!doctype html><title>Capstan UI</title>");
  writeFileSync(join(root, "assets", "app.js"), "console.log('ui');");
  return root;
}

describe("front door: authentication is decided on the route that runs", () => {
  it("answers 401 to every non-public API route under every spelling of its URL when no credential is sent", async () => {
    const s = await open({ webRoot: webRoot() });
    const routes = routesOf(s.app);
    const api = routes.filter((r) => r.url.startsWith("/api"));
    // The list comes from the app itself: the hidden OpenAPI route and Fastify's HEAD routes are in it.
    expect(api.map((r) => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining(["GET /api/openapi.json", "HEAD /api/openapi.json", "POST /api/auth/login", "GET /api/health"]));
    expect(api.length).toBeGreaterThan(50);
    expect(api.filter((r) => r.public).map((r) => `${r.method} ${r.url}`).sort()).toEqual(["GET /api/health", "HEAD /api/health", "POST /api/auth/login", "POST /api/auth/token"]);
    const wrong: string[] = [];
    let tried = 0;
    for (const route of api.filter((r) => !r.public)) {
      for (const path of spellings(concrete(route.url))) {
        const body = route.method === "GET" || route.method === "HEAD" ? undefined : "{}";
        const answer = await raw(s.url, route.method, path, {}, body);
        tried++;
        if (answer.status !== 401) wrong.push(`${route.method} ${path} (${route.url}): ${answer.status} ${answer.text.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(tried).toBeGreaterThan(1000);
    // Public routes stay public, and the UI's pages and assets are still served.
    expect((await raw(s.url, "GET", "/api/health")).status).toBe(200);
    expect((await raw(s.url, "GET", "/%61pi/health")).status).toBe(200);
    expect((await raw(s.url, "GET", "/runs/abc")).text).toContain("Capstan UI");
    expect((await raw(s.url, "GET", "/assets/app.js")).status).toBe(200);
    expect(s.serverErrors).toEqual([]);
  });

  it("answers an unknown API path 404 only to a caller with a credential, and never with the UI's page", async () => {
    const s = await open({ webRoot: webRoot() });
    const auth = { authorization: `Bearer ${s.admin.token}` };
    for (const path of ["/api/no-such-route", "/API/no-such-route", "/%61pi/no-such-route", "//api/no-such-route", "/api/../api/no-such-route", "/api%2Fno-such-route"]) {
      expect((await raw(s.url, "GET", path)).status, path).toBe(401);
      const known = await raw(s.url, "GET", path, auth);
      expect(known.status, path).toBe(404);
      expect(JSON.parse(known.text)).toMatchObject({ error: { code: "not_found" } });
      expect(known.headers["cache-control"], path).toBe("no-store");
    }
    // A spelling that routes reaches the route with a credential, as the plain one does.
    const spelt = await raw(s.url, "GET", "/%61pi/openapi.json", auth);
    expect(spelt.status).toBe(200);
    expect(spelt.headers["cache-control"]).toBe("no-store");
  });

  it("refuses a foreign Origin on every mutating route under every spelling, with a valid session cookie and CSRF token", async () => {
    const s = await open({ webRoot: webRoot() });
    const eddie = await s.user("eddie", { "team-a": "editor" }, { admin: true });
    const { cookie, csrf } = await s.login("eddie", eddie.password);
    const usersBefore = (await s.call<{ users: unknown[] }>("GET", "/api/users", { token: s.admin.token })).text;
    const tokensBefore = (await s.call<{ tokens: unknown[] }>("GET", "/api/tokens", { token: s.admin.token })).text;
    const mutating = routesOf(s.app).filter((r) => r.url.startsWith("/api") && !["GET", "HEAD", "OPTIONS"].includes(r.method));
    expect(mutating.length).toBeGreaterThan(20);
    const wrong: string[] = [];
    for (const route of mutating) {
      for (const path of spellings(concrete(route.url))) {
        const body = route.url === "/api/auth/login" ? JSON.stringify({ username: "eddie", password: eddie.password }) : "{}";
        const answer = await raw(s.url, route.method, path, { cookie, "x-csrf-token": csrf, origin: "https://evil.example" }, body);
        if (answer.status !== 403 || answer.headers["set-cookie"] !== undefined) wrong.push(`${route.method} ${path} (${route.url}): ${answer.status} ${answer.text.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
    // Nothing was changed: no run, no token, no user.
    expect((await s.call<{ total: number }>("GET", "/api/runs", { token: s.admin.token })).body.total).toBe(0);
    expect((await s.call("GET", "/api/users", { token: s.admin.token })).text).toBe(usersBefore);
    expect((await s.call("GET", "/api/tokens", { token: s.admin.token })).text).toBe(tokensBefore);
    // The same cookie from the app's own origin still works.
    expect((await s.call("POST", "/api/pipelines/alpha/runs", { body: {}, headers: { cookie, "x-csrf-token": csrf, origin: s.url } })).status).toBe(201);
    expect(s.serverErrors).toEqual([]);
  });
});
