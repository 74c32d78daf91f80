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
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { AuthService, type LoginLimits } from "../../src/auth/index.js";
import { FakeClock } from "../../src/clock/index.js";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { buildServer, routesOf } from "../../src/server/index.js";
import { runCli } from "../support/cli-process.js";
import { createTestDatabase } from "../support/postgres.js";
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
let extra: FastifyInstance | undefined;
afterEach(async () => {
  await extra?.close();
  extra = undefined;
  await h?.close();
  h = undefined;
});

/** A second server on the harness' platform with its own accounts service: login limits, clock and trusted proxies of the test's choosing. */
async function frontDoor(s: ServerHarness, options: { limits?: LoginLimits; clock?: FakeClock; trustProxy?: readonly string[] }): Promise<{ url: string; auth: AuthService }> {
  const auth = new AuthService(s.platform.store, { ...(options.clock ? { clock: options.clock } : {}), ...(options.limits ? { loginLimits: options.limits } : {}) });
  extra = await buildServer({ platform: s.platform, auth }, { webRoot: null, ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}) });
  await extra.listen({ port: 0, host: "127.0.0.1" });
  const address = extra.server.address();
  return { url: typeof address === "object" && address ? `http://127.0.0.1:${address.port}` : "", auth };
}

async function signIn(url: string, username: string, password: string, headers: Record<string, string> = {}): Promise<number> {
  const answer = await raw(url, "POST", "/api/auth/login", headers, JSON.stringify({ username, password }));
  return answer.status;
}

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
    expect(api.filter((r) => r.public).map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      "GET /api/health",
      // Share links are opened without a platform session; their own password rules are tested in shares.test.ts.
      "GET /api/public/shares/:id",
      "GET /api/public/shares/:id/entries",
      "GET /api/public/shares/:id/files",
      "GET /api/public/shares/:id/zip",
      "HEAD /api/health",
      "HEAD /api/public/shares/:id",
      "HEAD /api/public/shares/:id/entries",
      "HEAD /api/public/shares/:id/files",
      "HEAD /api/public/shares/:id/zip",
      "POST /api/auth/login",
      "POST /api/auth/token",
      // The git push webhook proves itself with its shared secret (pipelines-from-git.test.ts).
      "POST /api/pipelines/git/webhook",
      "POST /api/public/shares/:id/unlock",
    ]);
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

describe("front door: sign-in limits hold under parallel guesses", () => {
  it("refuses the right password after 60 parallel wrong ones, until the window has passed", async () => {
    const s = await open();
    const clock = new FakeClock(Date.now());
    const door = await frontDoor(s, { clock });
    const bob = await s.user("bob", {});
    const guesses = await Promise.all(Array.from({ length: 60 }, (_, i) => signIn(door.url, "bob", `wrong-guess-${i}`)));
    // Only the default 10 attempts per account reach the password check; the rest are refused before it.
    expect(guesses.filter((status) => status === 401)).toHaveLength(10);
    expect(guesses.filter((status) => status === 429)).toHaveLength(50);
    expect(await signIn(door.url, "bob", bob.password)).toBe(429);
    // From another address too: the limit is the account's.
    expect((await raw(door.url, "POST", "/api/auth/token", {}, JSON.stringify({ username: "bob", password: bob.password, name: "x" }))).status).toBe(429);
    clock.advance(15 * 60_000 - 1000);
    expect(await signIn(door.url, "bob", bob.password)).toBe(429);
    clock.advance(1000);
    expect(await signIn(door.url, "bob", bob.password)).toBe(200);
  });

  it("does not let a client reset the limit by rotating X-Forwarded-For when its proxy is not trusted", async () => {
    const s = await open();
    const door = await frontDoor(s, { limits: { perAccount: 100, perAddress: 4 } });
    for (const name of ["u1", "u2", "u3", "u4", "u5"]) await s.user(name, {});
    for (let i = 0; i < 4; i++) expect(await signIn(door.url, `u${i + 1}`, "wrong", { "x-forwarded-for": `198.51.100.${i}` })).toBe(401);
    // The peer (127.0.0.1) is the address, whatever it claims to forward for.
    expect(await signIn(door.url, "u5", "pw-u5-0123456789", { "x-forwarded-for": "198.51.100.200" })).toBe(429);
    expect(await signIn(door.url, "u5", "pw-u5-0123456789")).toBe(429);
  });

  it("uses the forwarded address from a trusted proxy, and the proxy's own address from anyone else", async () => {
    const s = await open();
    const door = await frontDoor(s, { limits: { perAccount: 100, perAddress: 3 }, trustProxy: ["127.0.0.0/8"] });
    for (const name of ["u1", "u2", "u3", "u4"]) await s.user(name, {});
    for (let i = 0; i < 3; i++) expect(await signIn(door.url, `u${i + 1}`, "wrong", { "x-forwarded-for": "203.0.113.7" })).toBe(401);
    expect(await signIn(door.url, "u4", "pw-u4-0123456789", { "x-forwarded-for": "203.0.113.7" })).toBe(429);
    // A client behind the proxy cannot pick its address: the proxy appends the real one, and that is used.
    expect(await signIn(door.url, "u4", "pw-u4-0123456789", { "x-forwarded-for": "198.51.100.1, 203.0.113.7" })).toBe(429);
    // Another client of the same proxy is not limited by the first.
    expect(await signIn(door.url, "u4", "pw-u4-0123456789", { "x-forwarded-for": "203.0.113.8" })).toBe(200);
  });
});

describe("front door: settings", () => {
  function configIn(yaml: string, env: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), "capstan-config-"));
    writeFileSync(join(dir, "capstan.yaml"), yaml);
    return loadConfig({}, env, dir);
  }

  it("reads trusted proxies and login limits from capstan.yaml, and trusts no proxy by default", () => {
    expect(configIn("home: h\n").server).toMatchObject({ trustedProxies: [], loginLimits: { perAccount: 10, perAddress: 50, windowMs: 900_000 } });
    const config = configIn("server:\n  trusted_proxies: [10.0.0.0/8, 'fd00::/8', 192.168.1.5, loopback]\n  login_limits: { per_account: 5, per_address: 20, window: 30m }\n");
    expect(config.server.trustedProxies).toEqual(["10.0.0.0/8", "fd00::/8", "192.168.1.5", "loopback"]);
    expect(config.server.loginLimits).toEqual({ perAccount: 5, perAddress: 20, windowMs: 1_800_000 });
  });

  it("names a bad proxy entry with its place in the file and what would be accepted", () => {
    expect(() => configIn("server:\n  trusted_proxies: [10.0.0.0/33]\n")).toThrow(/capstan\.yaml:2:\d+: server\.trusted_proxies\.0: "10\.0\.0\.0\/33" is not a proxy address: expected an IP address/);
    expect(() => configIn("server:\n  trusted_proxies: [proxy.example]\n")).toThrow(ConfigError);
    expect(() => configIn("server:\n  login_limits: { per_account: 0 }\n")).toThrow(/server\.login_limits\.per_account/);
  });

  it("takes CAPSTAN_TRUST_PROXY as a list over the file's, with 1 meaning a proxy on this machine", () => {
    const yaml = "server: { trusted_proxies: [10.1.2.3] }\n";
    expect(configIn(yaml).server.trustedProxies).toEqual(["10.1.2.3"]);
    expect(configIn(yaml, { CAPSTAN_TRUST_PROXY: "1" }).server.trustedProxies).toEqual(["loopback"]);
    expect(configIn(yaml, { CAPSTAN_TRUST_PROXY: "0" }).server.trustedProxies).toEqual([]);
    expect(configIn(yaml, { CAPSTAN_TRUST_PROXY: "10.0.0.0/8, 172.16.0.1" }).server.trustedProxies).toEqual(["10.0.0.0/8", "172.16.0.1"]);
    expect(() => configIn(yaml, { CAPSTAN_TRUST_PROXY: "true" })).toThrow(/CAPSTAN_TRUST_PROXY: "true" is not a proxy address/);
  });
});

describe("front door: token expiry counts on the accounts' clock", () => {
  it("sets expires_in_days from the clock that judges expiry, for made and exchanged tokens", async () => {
    const clock = new FakeClock("2030-06-01T00:00:00Z");
    const s = await open({ authClock: clock });
    const bob = await s.user("bob", {});
    const made = await s.call<{ token: string; expires_at: string }>("POST", "/api/tokens", { token: s.admin.token, body: { name: "day", expires_in_days: 1 } });
    const exchanged = await s.call<{ token: string; expires_at: string }>("POST", "/api/auth/token", { body: { username: "bob", password: bob.password, name: "day", expires_in_days: 1 } });
    for (const created of [made, exchanged]) {
      expect(created.body.expires_at).toBe("2030-06-02T00:00:00.000Z");
      expect((await s.call("GET", "/api/auth/me", { token: created.body.token })).status).toBe(200);
    }
    clock.advance(24 * 3600_000);
    for (const created of [made, exchanged]) expect((await s.call("GET", "/api/auth/me", { token: created.body.token })).status).toBe(401);
  });
});

describe("front door: a new password revokes the account's API tokens", () => {
  it("revokes every token and other session at one's own change, keeping the session that made it", async () => {
    const s = await open();
    const bob = await s.user("bob", { "team-a": "viewer" });
    const script = await s.call<{ token: string }>("POST", "/api/tokens", { token: bob.token, body: { name: "nightly script" } });
    const other = await s.login("bob", bob.password);
    const current = await s.login("bob", bob.password);
    expect((await s.call("GET", "/api/auth/me", { token: script.body.token })).status).toBe(200);
    const changed = await s.call("POST", "/api/auth/password", { headers: { cookie: current.cookie, "x-csrf-token": current.csrf }, body: { current_password: bob.password, new_password: "a-new-password-42" } });
    expect(changed.status).toBe(204);
    expect((await s.call("GET", "/api/auth/me", { token: bob.token })).status).toBe(401);
    expect((await s.call("GET", "/api/auth/me", { token: script.body.token })).status).toBe(401);
    expect((await s.call("GET", "/api/auth/me", { headers: { cookie: other.cookie } })).status).toBe(401);
    expect((await s.call("GET", "/api/auth/me", { headers: { cookie: current.cookie } })).status).toBe(200);
    const tokens = await s.call<{ tokens: { name: string; state: string }[] }>("GET", "/api/tokens", { headers: { cookie: current.cookie } });
    expect(tokens.body.tokens.map((t) => t.state)).toEqual(["revoked", "revoked"]);
    // A token made with the new password works.
    const fresh = await s.call<{ token: string }>("POST", "/api/auth/token", { body: { username: "bob", password: "a-new-password-42", name: "again" } });
    expect((await s.call("GET", "/api/auth/me", { token: fresh.body.token })).status).toBe(200);
  });

  it("revokes them, the token making the change included, when the change is made with a token", async () => {
    const s = await open();
    const bob = await s.user("bob", {});
    expect((await s.call("POST", "/api/auth/password", { token: bob.token, body: { current_password: bob.password, new_password: "a-new-password-42" } })).status).toBe(204);
    expect((await s.call("GET", "/api/auth/me", { token: bob.token })).status).toBe(401);
  });

  it("revokes them when an admin sets a new password, and leaves other users' tokens alone", async () => {
    const s = await open();
    const bob = await s.user("bob", {});
    const carol = await s.user("carol", {});
    const session = await s.login("bob", bob.password);
    expect((await s.call("PATCH", "/api/users/bob", { token: s.admin.token, body: { password: "reset-by-admin-42" } })).status).toBe(200);
    expect((await s.call("GET", "/api/auth/me", { token: bob.token })).status).toBe(401);
    expect((await s.call("GET", "/api/auth/me", { headers: { cookie: session.cookie } })).status).toBe(401);
    expect((await s.call("GET", "/api/auth/me", { token: carol.token })).status).toBe(200);
    expect((await s.call("GET", "/api/auth/me", { token: s.admin.token })).status).toBe(200);
    // Other changes keep the tokens.
    const again = await s.call<{ token: string }>("POST", "/api/auth/token", { body: { username: "bob", password: "reset-by-admin-42", name: "x" } });
    expect((await s.call("PATCH", "/api/users/bob", { token: s.admin.token, body: { display_name: "Bob" } })).status).toBe(200);
    expect((await s.call("GET", "/api/auth/me", { token: again.body.token })).status).toBe(200);
  });

  it("revokes them when capstan users reset-password gives a new password", { timeout: 120_000 }, async () => {
    const s = await open();
    const bob = await s.user("bob", {});
    expect((await s.call("GET", "/api/auth/me", { token: bob.token })).status).toBe(200);
    const reset = await runCli(["--home", s.home, "--json", "users", "reset-password", "bob"], { cwd: s.dir });
    expect(reset.code, reset.stderr).toBe(0);
    const { password } = JSON.parse(reset.stdout) as { password: string };
    expect((await s.call("GET", "/api/auth/me", { token: bob.token })).status).toBe(401);
    expect((await s.call("POST", "/api/auth/token", { body: { username: "bob", password, name: "after reset" } })).status).toBe(201);
  });
});

describe("front door: load errors of pipeline files are shown within the file's team", () => {
  it("shows a broken file's error to the team of its last good version, else the team it names, else only admins", async () => {
    const s = await open({
      pipelines: {
        ...PIPELINES,
        // Never loaded; readable, naming team-b.
        "b-broken.yaml": "id: b_broken\nteam: team-b\ntasks:\n  t: { command: 42 }\n",
        // Never loaded, TypeScript, naming team-b.
        "c-broken.ts": 'throw new Error("c is broken at import");\nexport default { id: "c_broken", team: "team-b", tasks: {} };\n',
        // Never loaded and unreadable as YAML: no team can be told.
        "nobody.yaml": "id: nobody\nteam: [unclosed\n",
      },
    });
    // alpha (team-a) loaded once; now its file breaks, while its file names another team.
    s.writePipeline("alpha.yaml", "id: alpha\nteam: team-b\ntasks:\n  hello: { command: 42 }\n");
    await s.platform.reloadPipelines();
    const eddie = await s.user("eddie", { "team-a": "editor" });
    const bella = await s.user("bella", { "team-b": "editor" });
    const vera = await s.user("vera", { "team-b": "viewer" });
    const files = async (token: string) => {
      const answer = await s.call<{ errors: { file: string; pipeline: string | null }[] }>("GET", "/api/pipelines", { token });
      expect(answer.status).toBe(200);
      return answer.body.errors.map((e) => e.file.split("/").pop()).sort();
    };
    expect(await files(eddie.token)).toEqual(["alpha.yaml"]);
    expect(await files(bella.token)).toEqual(["b-broken.yaml", "c-broken.ts"]);
    expect(await files(vera.token)).toEqual(["b-broken.yaml", "c-broken.ts"]);
    expect(await files(s.admin.token)).toEqual(["alpha.yaml", "b-broken.yaml", "c-broken.ts", "nobody.yaml"]);
    // Nothing of another team's files leaks through the answer's text either.
    const asEddie = await s.call("GET", "/api/pipelines", { token: eddie.token });
    expect(asEddie.text).not.toMatch(/b-broken|c-broken|nobody\.yaml|c is broken/);
    const alphaError = (await s.call<{ errors: { file: string; pipeline: string | null }[] }>("GET", "/api/pipelines", { token: eddie.token })).body.errors[0];
    expect(alphaError?.pipeline).toBe("alpha");
  });
});

describe("front door: NUL bytes are refused at the door", () => {
  interface ErrorBody {
    error: { code: string; message: string; details?: { param?: string; field?: string; in?: string } };
  }

  it("answers a NUL in params, secrets, names, ids and queries with a 400 naming the field, on PostgreSQL, and launches nothing", async () => {
    const s = await open({
      databaseUrl: await createTestDatabase(),
      pipelines: {
        ...PIPELINES,
        "nightly.yaml": "id: nightly\nteam: team-a\nschedule: '@daily'\nstart_date: 2026-01-01\nparams:\n  msg: { type: string, default: hi }\ntasks:\n  t: { command: 'echo {{ params.msg }}', secrets: { TOKEN: api/token } }\n",
      },
    });
    const t = s.admin.token;
    const bad = async (method: string, path: string, body?: unknown): Promise<ErrorBody["error"]> => {
      const answer = await s.call<ErrorBody>(method, path, { token: t, ...(body !== undefined ? { body } : {}) });
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(400);
      return answer.body.error;
    };
    expect(await bad("POST", "/api/pipelines/alpha/runs", { params: { msg: "nul\u0000byte" } })).toMatchObject({ code: "invalid_param", details: { param: "msg" } });
    expect(await bad("POST", "/api/pipelines/nightly/backfill", { from: "2026-01-01T00:00:00Z", to: "2026-01-03T00:00:00Z", params: { msg: "x\u0000" } })).toMatchObject({ code: "invalid_param", details: { param: "msg" } });
    const secret = await bad("PUT", "/api/secrets/team-a/api", { data: { token: "abc\u0000def" } });
    expect(secret).toMatchObject({ code: "invalid_request", details: { field: "data.token", in: "body" } });
    expect(secret.message).toMatch(/^body field "data\.token": the text contains a NUL byte \(U\+0000\)/);
    expect((await bad("POST", "/api/tokens", { name: "script\u0000" })).details).toEqual({ field: "name", in: "body" });
    await s.user("bob", {});
    expect((await bad("PATCH", "/api/users/bob", { display_name: "B\u0000b" })).details).toEqual({ field: "display_name", in: "body" });
    expect((await bad("POST", "/api/teams", { name: "team-c", description: "x\u0000" })).details).toEqual({ field: "description", in: "body" });
    expect((await bad("GET", "/api/runs/abc%00def")).details).toEqual({ field: "run", in: "path" });
    expect((await bad("GET", "/api/runs?pipeline=al%00pha")).details).toEqual({ field: "pipeline", in: "query" });
    expect((await bad("GET", "/api/pipelines/al%00pha")).details).toEqual({ field: "id", in: "path" });
    // Nothing was stored or queued, and the server answers on.
    expect((await s.call<{ secrets: unknown[] }>("GET", "/api/secrets", { token: t })).body.secrets).toEqual([]);
    // (the nightly schedule runs on its own; nothing was triggered or backfilled)
    const runs = await s.call<{ runs: { trigger: string }[] }>("GET", "/api/runs?limit=100", { token: t });
    expect(runs.body.runs.filter((r) => r.trigger !== "scheduled")).toEqual([]);
    expect(s.serverErrors).toEqual([]);
    const good = await s.call<{ id: string }>("POST", "/api/pipelines/alpha/runs", { token: t, body: { params: { msg: "fine" } } });
    expect(good.status).toBe(201);
    expect((await s.waitForRun(good.body.id)).state).toBe("success");
  });
});
