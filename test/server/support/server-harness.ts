/**
 * A real API server for tests: a platform on a temporary home (see platform-harness.ts), the
 * HTTP server listening on a free loopback port, an admin with a token, and helpers to create
 * users with roles in teams and to call the API as one of them.
 */
import type { FastifyInstance } from "fastify";
import { AuthService, type TeamRole } from "../../../src/auth/index.js";
import type { Clock } from "../../../src/clock/index.js";
import { buildServer } from "../../../src/server/index.js";
import { openHarness, type Harness, type HarnessOptions } from "../../support/platform-harness.js";

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  /** A raw body sent as it is (with the content-type in headers). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface TestUser {
  username: string;
  password: string;
  token: string;
}

export interface ServerHarness extends Harness {
  url: string;
  app: FastifyInstance;
  auth: AuthService;
  admin: TestUser;
  /** Answers with a 5xx status so far (every one is a bug: bad input must get a 4xx). */
  serverErrors: { method: string; url: string; status: number }[];
  /** Calls the API; JSON bodies are parsed. */
  call<T = unknown>(method: string, path: string, options?: CallOptions): Promise<ApiAnswer<T>>;
  /** Creates a person with these team roles, a known password and an API token. */
  user(username: string, roles: Record<string, TeamRole>, options?: { admin?: boolean }): Promise<TestUser>;
  /** Signs in with a password; returns the session cookie and CSRF token. */
  login(username: string, password: string): Promise<{ cookie: string; csrf: string }>;
}

export interface ServerHarnessOptions extends HarnessOptions {
  /** The clock of accounts (token and session expiry); the scheduler keeps the system clock. */
  authClock?: Clock;
  webRoot?: string | null;
  trustProxy?: boolean;
}

export async function openServer(options: ServerHarnessOptions = {}): Promise<ServerHarness> {
  const harness = await openHarness(options);
  const auth = new AuthService(harness.platform.store, options.authClock ? { clock: options.authClock } : {});
  const app = await buildServer({ platform: harness.platform, auth }, { webRoot: options.webRoot ?? null, trustProxy: options.trustProxy ?? false });
  const serverErrors: { method: string; url: string; status: number }[] = [];
  app.addHook("onResponse", async (request, reply) => {
    if (reply.statusCode >= 500) serverErrors.push({ method: request.method, url: request.url, status: reply.statusCode });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const url = typeof address === "object" && address ? `http://127.0.0.1:${address.port}` : "";

  const call = async <T>(method: string, path: string, callOptions: CallOptions = {}): Promise<ApiAnswer<T>> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
    let body: string | undefined = callOptions.raw;
    if (callOptions.body !== undefined) {
      body = JSON.stringify(callOptions.body);
      headers["content-type"] ??= "application/json";
    }
    const response = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed as T, text, headers: response.headers };
  };

  const user = async (username: string, roles: Record<string, TeamRole>, userOptions: { admin?: boolean } = {}): Promise<TestUser> => {
    const password = `pw-${username}-0123456789`;
    await auth.createUser({ username, password, admin: userOptions.admin ?? false });
    for (const [team, role] of Object.entries(roles)) await auth.setMember(team, username, role);
    const token = await auth.createToken(username, "test", null);
    return { username, password, token: token.token };
  };

  const login = async (username: string, password: string) => {
    const answer = await call<{ csrf_token: string }>("POST", "/api/auth/login", { body: { username, password } });
    if (answer.status !== 200) throw new Error(`login of ${username} failed: ${answer.status} ${answer.text}`);
    const setCookie = answer.headers.get("set-cookie") ?? "";
    return { cookie: setCookie.split(";")[0] ?? "", csrf: answer.body.csrf_token };
  };

  const admin = await user("root", {}, { admin: true });
  return {
    ...harness,
    url,
    app,
    auth,
    admin,
    serverErrors,
    call,
    user,
    login,
    close: async () => {
      await app.close();
      await harness.close();
    },
  };
}

/** Polls nothing: resolves once `predicate` holds for a run's view, re-checking on each state change of that run. */
export async function waitForRunState(h: ServerHarness, runId: string, predicate: (tasks: Record<string, string>, runState: string) => boolean, timeoutMs = 60_000): Promise<void> {
  const check = async () => {
    const run = await h.platform.store.runs.get(runId);
    return run ? predicate(await h.taskStates(runId), run.state) : false;
  };
  if (await check()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      h.platform.scheduler.events.off("change", listener);
      reject(new Error(`run ${runId} did not reach the expected state within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (change: { runId: string }) => {
      if (change.runId !== runId) return;
      void check().then((ok) => {
        if (!ok) return;
        clearTimeout(timer);
        h.platform.scheduler.events.off("change", listener);
        resolve();
      });
    };
    h.platform.scheduler.events.on("change", listener);
  });
}
