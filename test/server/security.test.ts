/**
 * The API's security rules, each against a real server: authentication on every route but health
 * and sign-in, roles, team isolation (404, not 403), immediate revocation and expiry, CSRF, cookie
 * flags, secrets never shown, and bad input answered with a 4xx and a clear message.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/index.js";
import { openServer, type ServerHarness, type ServerHarnessOptions } from "./support/server-harness.js";
import { openSse } from "./support/sse-client.js";

const PIPELINES = {
  "alpha.yaml": `id: alpha
team: team-a
params:
  n: { type: integer, default: 1, minimum: 0 }
tasks:
  hello: { command: "echo hello from alpha {{ params.n }}" }
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

/** Triggers a run as the admin and waits for it to finish. */
async function finishedRun(s: ServerHarness, pipeline: string, params: Record<string, unknown> = {}): Promise<string> {
  const answer = await s.call<{ id: string }>("POST", `/api/pipelines/${pipeline}/runs`, { token: s.admin.token, body: { params } });
  expect(answer.status).toBe(201);
  await s.waitForRun(answer.body.id);
  return answer.body.id;
}

describe("authentication", () => {
  it("answers 401 on every route of the OpenAPI document but health and sign-in when no credential is sent", async () => {
    const s = await open();
    const doc = await s.call<{ paths: Record<string, Record<string, unknown>> }>("GET", "/api/openapi.json", { token: s.admin.token });
    expect(doc.status).toBe(200);
    // Share links are opened without a platform session (their password rules: shares.test.ts).
    const shareRoutes = ["GET /api/public/shares/{id}", "POST /api/public/shares/{id}/unlock", "GET /api/public/shares/{id}/entries", "GET /api/public/shares/{id}/files", "GET /api/public/shares/{id}/zip"];
    // The git push webhook proves itself with its shared secret instead (pipelines-from-git.test.ts).
    const publicRoutes = new Set(["GET /api/health", "POST /api/auth/login", "POST /api/auth/token", "POST /api/pipelines/git/webhook", ...shareRoutes]);
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(doc.body.paths)) {
      for (const method of Object.keys(methods)) {
        const route = `${method.toUpperCase()} ${path}`;
        if (publicRoutes.has(route)) continue;
        const url = path.replace(/\{[^}]+\}/g, "x");
        const answer = await s.call<{ error: { code: string } }>(method.toUpperCase(), url, { ...(method === "get" || method === "delete" ? {} : { body: {} }) });
        expect(answer.status, route).toBe(401);
        expect(answer.body.error.code, route).toBe("unauthenticated");
        checked.push(route);
      }
    }
    expect(checked.length).toBeGreaterThan(35);
    expect((await s.call("GET", "/api/openapi.json")).status).toBe(401);
    expect((await s.call("GET", "/api/no-such-route")).status).toBe(401);
    expect((await s.call("GET", "/api/health")).status).toBe(200);
    expect((await s.call("GET", "/api/pipelines", { token: "capstan_not-a-real-token" })).status).toBe(401);
    expect((await s.call("GET", "/api/pipelines", { headers: { authorization: "Basic cm9vdDpwdw==" } })).status).toBe(401);
  });

  it("stops a revoked token at once, and closes its live streams", async () => {
    const s = await open();
    const created = await s.call<{ id: string; token: string }>("POST", "/api/tokens", { token: s.admin.token, body: { name: "script" } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^capstan_[A-Za-z0-9_-]{43}$/);
    expect((await s.call("GET", "/api/pipelines", { token: created.body.token })).status).toBe(200);
    const stream = await openSse(`${s.url}/api/events`, { authorization: `Bearer ${created.body.token}` });
    await stream.until((events) => events.some((e) => e.event === "ready"));
    expect((await s.call("DELETE", `/api/tokens/${created.body.id}`, { token: s.admin.token })).status).toBe(204);
    expect((await s.call("GET", "/api/pipelines", { token: created.body.token })).status).toBe(401);
    await stream.ended;
    const listed = await s.call<{ tokens: { id: string; state: string }[] }>("GET", "/api/tokens", { token: s.admin.token });
    expect(listed.body.tokens.find((t) => t.id === created.body.id)?.state).toBe("revoked");
    expect(listed.text).not.toContain(created.body.token);
  });

  it("stops an expired token the moment its expiry passes", async () => {
    const clock = new FakeClock(Date.now());
    const s = await open({ authClock: clock });
    const created = await s.call<{ token: string; expires_at: string }>("POST", "/api/tokens", { token: s.admin.token, body: { name: "short", expires_in_days: 1 } });
    expect((await s.call("GET", "/api/auth/me", { token: created.body.token })).status).toBe(200);
    clock.advance(24 * 3600_000 - 1000);
    expect((await s.call("GET", "/api/auth/me", { token: created.body.token })).status).toBe(200);
    clock.advance(2000);
    expect((await s.call("GET", "/api/auth/me", { token: created.body.token })).status).toBe(401);
  });

  it("ends a session at logout, and a disabled user's token stops working", async () => {
    const s = await open();
    const bob = await s.user("bob", { "team-a": "editor" });
    const { cookie, csrf } = await s.login("bob", bob.password);
    expect((await s.call("GET", "/api/auth/me", { headers: { cookie } })).status).toBe(200);
    expect((await s.call("POST", "/api/auth/logout", { headers: { cookie, "x-csrf-token": csrf }, body: {} })).status).toBe(204);
    expect((await s.call("GET", "/api/auth/me", { headers: { cookie } })).status).toBe(401);
    expect((await s.call("PATCH", "/api/users/bob", { token: s.admin.token, body: { disabled: true } })).status).toBe(200);
    expect((await s.call("GET", "/api/auth/me", { token: bob.token })).status).toBe(401);
  });

  it("sets the session cookie HttpOnly and SameSite=Strict, with the __Host- prefix and Secure over HTTPS", async () => {
    const s = await open({ trustProxy: true });
    const bob = await s.user("bob", {});
    const plain = await s.call("POST", "/api/auth/login", { body: { username: "bob", password: bob.password } });
    const cookie = plain.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^capstan_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    const secure = await s.call("POST", "/api/auth/login", { body: { username: "bob", password: bob.password }, headers: { "x-forwarded-proto": "https" } });
    const secureCookie = secure.headers.get("set-cookie") ?? "";
    expect(secureCookie).toMatch(/^__Host-capstan_session=/);
    expect(secureCookie).toContain("Secure");
    expect(secureCookie).not.toContain("Domain=");
  });

  it("gives every failed sign-in the same answer and slows down guessing", async () => {
    const s = await open();
    await s.user("bob", {});
    const wrong = await s.call<{ error: { message: string } }>("POST", "/api/auth/login", { body: { username: "bob", password: "nope" } });
    const unknown = await s.call<{ error: { message: string } }>("POST", "/api/auth/login", { body: { username: "nobody", password: "nope" } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    for (let i = 0; i < 9; i++) await s.call("POST", "/api/auth/login", { body: { username: "bob", password: `nope${i}` } });
    const limited = await s.call<{ error: { code: string } }>("POST", "/api/auth/login", { body: { username: "bob", password: "pw-bob-0123456789" } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("too_many_attempts");
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});

describe("roles and teams", () => {
  it("lets a viewer read but not trigger, clear, mark or cancel (403)", async () => {
    const s = await open();
    const viewer = await s.user("vera", { "team-a": "viewer" });
    const runId = await finishedRun(s, "alpha");
    expect((await s.call("GET", "/api/pipelines/alpha", { token: viewer.token })).status).toBe(200);
    expect((await s.call("GET", `/api/runs/${runId}/tasks/hello/logs`, { token: viewer.token })).status).toBe(200);
    const trigger = await s.call<{ error: { code: string; message: string } }>("POST", "/api/pipelines/alpha/runs", { token: viewer.token, body: {} });
    expect(trigger.status).toBe(403);
    expect(trigger.body.error.code).toBe("forbidden");
    expect(trigger.body.error.message).toMatch(/vera is a viewer of team team-a and cannot trigger runs/);
    expect((await s.call("POST", `/api/runs/${runId}/tasks/hello/clear`, { token: viewer.token, body: {} })).status).toBe(403);
    expect((await s.call("POST", `/api/runs/${runId}/tasks/hello/mark`, { token: viewer.token, body: { state: "failed" } })).status).toBe(403);
    expect((await s.call("POST", `/api/runs/${runId}/cancel`, { token: viewer.token, body: {} })).status).toBe(403);
    expect((await s.call("PUT", "/api/pools/gpu", { token: viewer.token, body: { slots: 2 } })).status).toBe(403);
    const editor = await s.user("eddie", { "team-a": "editor" });
    expect((await s.call("POST", "/api/pipelines/alpha/runs", { token: editor.token, body: {} })).status).toBe(201);
  });

  it("hides another team's pipelines, runs, tasks, logs and events behind 404s", async () => {
    const s = await open();
    const alice = await s.user("alice", { "team-a": "admin" });
    const betaRun = await finishedRun(s, "beta");
    await finishedRun(s, "alpha");
    const as = (method: string, path: string, body?: unknown) => s.call<{ error: { code: string; message: string } }>(method, path, { token: alice.token, ...(body !== undefined ? { body } : {}) });
    for (const [method, path, body] of [
      ["GET", "/api/pipelines/beta"],
      ["GET", "/api/pipelines/beta/grid"],
      ["GET", "/api/pipelines/beta/versions"],
      ["GET", "/api/pipelines/beta/triggers"],
      ["POST", "/api/pipelines/beta/runs", {}],
      ["GET", `/api/runs/${betaRun}`],
      ["POST", `/api/runs/${betaRun}/cancel`, {}],
      ["GET", `/api/runs/${betaRun}/tasks/hi`],
      ["GET", `/api/runs/${betaRun}/tasks/hi/logs`],
      ["GET", `/api/runs/${betaRun}/tasks/hi/logs/stream`],
      ["GET", `/api/runs/${betaRun}/tasks/hi/outputs`],
      ["POST", `/api/runs/${betaRun}/tasks/hi/clear`, {}],
      ["GET", "/api/events?pipeline=beta"],
      ["PUT", "/api/teams/team-b/members/alice", { role: "admin" }],
    ] as [string, string, unknown?][]) {
      const answer = await as(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error.code).toBe("not_found");
    }
    // The answer for another team's run reads exactly like the one for a run that does not exist.
    expect((await as("GET", `/api/runs/${betaRun}`)).body.error.message).toBe(`no run ${JSON.stringify(betaRun)}`);
    const pipelines = await s.call<{ pipelines: { id: string }[] }>("GET", "/api/pipelines", { token: alice.token });
    expect(pipelines.body.pipelines.map((p) => p.id)).toEqual(["alpha"]);
    expect((await s.call("GET", "/api/pipelines/alpha/triggers", { token: alice.token })).body).toEqual({ pipeline: "alpha", consuming_here: true, triggers: [] });
    const runs = await s.call<{ total: number; runs: { pipeline: string }[] }>("GET", "/api/runs", { token: alice.token });
    expect(runs.body.runs.every((r) => r.pipeline === "alpha")).toBe(true);
    expect(runs.body.total).toBe(1);
    expect((await s.call<{ total: number }>("GET", "/api/runs?pipeline=beta", { token: alice.token })).body.total).toBe(0);
    const teams = await s.call<{ teams: { name: string }[] }>("GET", "/api/teams", { token: alice.token });
    expect(teams.body.teams.map((t) => t.name)).toEqual(["team-a"]);
    // Admins see every team's things.
    expect((await s.call<{ total: number }>("GET", "/api/runs", { token: s.admin.token })).body.total).toBe(2);
  });

  it("streams only the changes of the caller's teams", async () => {
    const s = await open();
    const alice = await s.user("alice", { "team-a": "viewer" });
    const stream = await openSse(`${s.url}/api/events`, { authorization: `Bearer ${alice.token}` });
    await stream.until((events) => events.some((e) => e.event === "ready"));
    await finishedRun(s, "beta");
    const alphaRun = await finishedRun(s, "alpha");
    const events = await stream.until((all) => all.some((e) => e.event === "change" && (e.data as { run: string; state: string }).run === alphaRun && (e.data as { kind: string }).kind === "run" && (e.data as { state: string }).state === "success"));
    stream.close();
    const pipelines = new Set(events.filter((e) => e.event === "change").map((e) => (e.data as { pipeline: string }).pipeline));
    expect([...pipelines]).toEqual(["alpha"]);
  });
});

describe("cross-site requests", () => {
  it("refuses cross-site form posts and cookie requests without the CSRF token, and accepts the app's own", async () => {
    const s = await open();
    const eddie = await s.user("eddie", { "team-a": "editor" });
    const { cookie, csrf } = await s.login("eddie", eddie.password);
    const form = await s.call<{ error: { code: string } }>("POST", "/api/pipelines/alpha/runs", {
      raw: "params=1",
      headers: { cookie, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site" },
    });
    expect(form.status).toBe(403);
    const crossOrigin = await s.call<{ error: { code: string } }>("POST", "/api/pipelines/alpha/runs", { body: {}, headers: { cookie, "x-csrf-token": csrf, origin: "https://evil.example" } });
    expect(crossOrigin.status).toBe(403);
    expect(crossOrigin.body.error.code).toBe("cross_site_request");
    const crossSite = await s.call("POST", "/api/pipelines/alpha/runs", { body: {}, headers: { cookie, "x-csrf-token": csrf, "sec-fetch-site": "cross-site" } });
    expect(crossSite.status).toBe(403);
    const noToken = await s.call<{ error: { code: string } }>("POST", "/api/pipelines/alpha/runs", { body: {}, headers: { cookie } });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error.code).toBe("csrf_token_missing");
    const wrongToken = await s.call("POST", "/api/pipelines/alpha/runs", { body: {}, headers: { cookie, "x-csrf-token": "x".repeat(43) } });
    expect(wrongToken.status).toBe(403);
    expect((await s.call<{ total: number }>("GET", "/api/runs", { token: s.admin.token })).body.total).toBe(0);
    const own = await s.call("POST", "/api/pipelines/alpha/runs", { body: {}, headers: { cookie, "x-csrf-token": csrf, origin: s.url, "sec-fetch-site": "same-origin" } });
    expect(own.status).toBe(201);
    const crossLogin = await s.call("POST", "/api/auth/login", { body: { username: "eddie", password: eddie.password }, headers: { origin: "https://evil.example" } });
    expect(crossLogin.status).toBe(403);
  });
});

describe("secrets", () => {
  it("never shows a secret's value in API answers, logs or live log streams", async () => {
    const value = "s3cr3t-VALUE-9f81";
    h = await openServer({
      pipelines: {
        "secretive.yaml": `id: secretive
team: team-a
tasks:
  leak:
    command: 'echo "token=$API_TOKEN"; echo "again $API_TOKEN" >&2; printf "{\\"token\\": \\"%s\\"}" "$API_TOKEN" > "$CAPSTAN_OUTPUT"'
    secrets: { API_TOKEN: "api/token" }
`,
      },
    });
    const s = h;
    const alice = await s.user("alice", { "team-a": "admin" });
    expect((await s.call("PUT", "/api/secrets/team-a/api", { token: alice.token, body: { data: { token: value } } })).status).toBe(200);
    const listed = await s.call<{ secrets: { name: string; keys: string[] }[] }>("GET", "/api/secrets", { token: alice.token });
    expect(listed.body.secrets).toEqual([expect.objectContaining({ name: "api", keys: ["token"] })]);
    const trigger = await s.call<{ id: string }>("POST", "/api/pipelines/secretive/runs", { token: alice.token, body: {} });
    const run = await s.waitForRun(trigger.body.id);
    expect(run.state).toBe("success");
    const answers = [
      listed,
      await s.call("GET", `/api/runs/${run.id}/tasks/leak/logs`, { token: alice.token }),
      await s.call("GET", `/api/runs/${run.id}/tasks/leak`, { token: alice.token }),
      await s.call("GET", `/api/runs/${run.id}/tasks/leak/outputs`, { token: alice.token }),
      await s.call("GET", `/api/runs/${run.id}`, { token: alice.token }),
      await s.call("GET", "/api/runs", { token: alice.token }),
      await s.call("GET", "/api/pipelines/secretive", { token: alice.token }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(value);
    }
    const log = await s.call<{ text: string }>("GET", `/api/runs/${run.id}/tasks/leak/logs`, { token: alice.token });
    expect(log.body.text).toContain("token=***");
    const outputs = await s.call<{ outputs: { token: string } }>("GET", `/api/runs/${run.id}/tasks/leak/outputs`, { token: alice.token });
    expect(outputs.body.outputs.token).toBe("***");
    const stream = await openSse(`${s.url}/api/runs/${run.id}/tasks/leak/logs/stream?try=1`, { authorization: `Bearer ${alice.token}` });
    const events = await stream.until((all) => all.some((e) => e.event === "end"));
    expect(JSON.stringify(events)).not.toContain(value);
    expect(JSON.stringify(events)).toContain("token=***");
    // Editors see names; only team admins change secrets.
    const eddie = await s.user("eddie", { "team-a": "editor" });
    expect((await s.call("PUT", "/api/secrets/team-a/api", { token: eddie.token, body: { data: { token: "x" } } })).status).toBe(403);
  });
});

describe("bad input", () => {
  it("answers bad params, ids, bodies and queries with a 4xx that says what was wrong", async () => {
    const s = await open();
    const t = s.admin.token;
    const wrongType = await s.call<{ error: { code: string; message: string; details: { param: string } } }>("POST", "/api/pipelines/alpha/runs", { token: t, body: { params: { n: "many" } } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toEqual({ code: "invalid_param", message: 'param n: expected an integer, got the string "many"', details: { param: "n" } });
    const unknownParam = await s.call<{ error: { message: string } }>("POST", "/api/pipelines/alpha/runs", { token: t, body: { params: { m: 1 } } });
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.body.error.message).toMatch(/unknown param "m"; this pipeline accepts n/);
    expect((await s.call("POST", "/api/pipelines/alpha/runs", { token: t, body: { params: { n: -1 } } })).status).toBe(400);
    const malformed = await s.call<{ error: { code: string; message: string } }>("POST", "/api/pipelines/alpha/runs", { token: t, raw: '{"params": {', headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/JSON/);
    const notObject = await s.call("POST", "/api/pipelines/alpha/runs", { token: t, body: [1, 2] });
    expect(notObject.status).toBe(400);
    const extraField = await s.call<{ error: { code: string } }>("POST", "/api/pipelines/alpha/runs", { token: t, body: { parms: {} } });
    expect(extraField.status).toBe(400);
    expect(extraField.body.error.code).toBe("invalid_request");
    expect((await s.call("POST", "/api/pipelines/alpha/runs", { token: t, body: { logical_date: "yesterday" } })).status).toBe(400);
    expect((await s.call("POST", "/api/pipelines/nope/runs", { token: t, body: {} })).status).toBe(404);
    expect((await s.call("GET", "/api/runs/no-such-run", { token: t })).status).toBe(404);
    expect((await s.call("GET", `/api/runs/${"x".repeat(310)}`, { token: t })).status).toBe(400);
    expect((await s.call("GET", "/api/runs?limit=0", { token: t })).status).toBe(400);
    expect((await s.call("GET", "/api/runs?state=sleeping", { token: t })).status).toBe(400);
    expect((await s.call("GET", "/api/runs?offset=-1", { token: t })).status).toBe(400);
    expect((await s.call("GET", "/api/pipelines/alpha/grid?limit=1000", { token: t })).status).toBe(400);
    expect((await s.call("PUT", "/api/pools/gpu", { token: t, body: { slots: -1 } })).status).toBe(400);
    expect((await s.call("PUT", "/api/pools/bad%20name", { token: t, body: { slots: 1 } })).status).toBe(400);
    expect((await s.call("POST", "/api/users", { token: t, body: { username: "Bob" } })).status).toBe(400);
    expect((await s.call("POST", "/api/users", { token: t, body: { username: "bob", password: "short" } })).status).toBe(400);
    expect((await s.call("POST", "/api/tokens", { token: t, body: { name: "x", expires_in_days: 0 } })).status).toBe(400);
    expect((await s.call("POST", "/api/pipelines/alpha/backfill", { token: t, body: { from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" } })).status).toBe(400);
    const unsupported = await s.call("POST", "/api/pipelines/alpha/runs", { token: t, raw: "hello", headers: { "content-type": "text/plain" } });
    expect(unsupported.status).toBe(415);
  });
});
