/**
 * Connections over the API against real endpoints: a Kafka broker (plain and SASL, wrong password),
 * the test PostgreSQL, the test S3 server and an HTTP server — "test" really connects, secret values
 * never appear in an answer, and the security rules hold (another team → 404, a viewer writing →
 * 403, no session → 401, crafted names and settings → 400 naming the field, never a 500).
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionVariable, ConnectionService } from "../../src/connections/index.js";
import { startKafkaTestenv, type KafkaTestenv } from "../support/kafka-testenv.js";
import { testPostgresUrl } from "../support/postgres.js";
import { startS3Testenv, type S3Testenv } from "../support/s3-testenv.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

const USES_KAFKA = `id: uses-kafka
team: team-a
tasks:
  show:
    command: 'echo "servers=$CAPSTAN_CONN_EVENTS_SASL_BOOTSTRAP_SERVERS user=$CAPSTAN_CONN_EVENTS_SASL_SASL_USERNAME password=$CAPSTAN_CONN_EVENTS_SASL_SASL_PASSWORD"'
    connections: [events-sasl]
`;

let s: ServerHarness;
let kafka: KafkaTestenv;
let s3: S3Testenv;
let web: Server;
let webUrl = "";
let webAuth: string[] = [];
let admin: TestUser;
let editor: TestUser;
let viewer: TestUser;
let outsider: TestUser;

beforeAll(async () => {
  [kafka, s3, s] = await Promise.all([startKafkaTestenv(), startS3Testenv(), openServer({ pipelines: { "uses-kafka.yaml": USES_KAFKA } })]);
  web = createServer((request, response) => {
    webAuth.push(request.headers.authorization ?? "");
    response.statusCode = request.url === "/missing" ? 404 : 200;
    response.end("ok");
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  const address = web.address();
  webUrl = typeof address === "object" && address ? `http://127.0.0.1:${address.port}` : "";
  admin = await s.user("ada", { "team-a": "admin" });
  editor = await s.user("eve", { "team-a": "editor" });
  viewer = await s.user("vic", { "team-a": "viewer" });
  outsider = await s.user("otto", { "team-b": "admin" });
  const secrets = {
    kafka: { password: kafka.saslPassword, wrong: "not-the-password" },
    s3: { id: s3.accessKeyId, key: s3.secretAccessKey },
    web: { token: "web-token-5d1e" },
  };
  for (const [name, data] of Object.entries(secrets)) expect((await s.call("PUT", `/api/secrets/team-a/${name}`, { token: admin.token, body: { data } })).status).toBe(200);
}, 180_000);

afterAll(async () => {
  await Promise.all([kafka?.close(), s3?.stop(), s?.close(), new Promise((resolve) => web?.close(resolve))]);
});

async function put(user: TestUser, name: string, body: unknown, team = "team-a") {
  return s.call<{ error?: { message: string; details?: { field?: string } } }>("PUT", `/api/connections/${team}/${name}`, { token: user.token, body });
}

async function test(user: TestUser, name: string, team = "team-a") {
  return s.call<{ ok: boolean; message: string; elapsed_ms: number }>("POST", `/api/connections/${team}/${name}/test`, { token: user.token });
}

describe("connections", () => {
  it("stores a Kafka connection with a secret reference and tests it against the broker, plain and SASL", async () => {
    expect((await put(editor, "events", { kind: "kafka", settings: { bootstrap_servers: [kafka.bootstrap] } })).status).toBe(200);
    const plain = await test(editor, "events");
    expect(plain.body).toMatchObject({ ok: true });
    expect(plain.body.message).toContain("1 broker");

    const sasl = { kind: "kafka", settings: { bootstrap_servers: [kafka.saslBootstrap], sasl_mechanism: "PLAIN", sasl_username: kafka.saslUsername }, secrets: { sasl_password: "kafka/password" } };
    expect((await put(editor, "events-sasl", sasl)).status).toBe(200);
    expect((await test(editor, "events-sasl")).body.ok).toBe(true);
    expect((await put(editor, "events-wrong", { ...sasl, secrets: { sasl_password: "kafka/wrong" } })).status).toBe(200);
    const wrong = await test(editor, "events-wrong");
    expect(wrong.body.ok).toBe(false);
    expect(wrong.body.message).not.toContain("not-the-password");

    const shown = await s.call("GET", "/api/connections/team-a/events-sasl", { token: viewer.token });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ kind: "kafka", secrets: { sasl_password: "kafka/password" } });
    const listed = await s.call("GET", "/api/connections", { token: viewer.token });
    expect(listed.text).not.toContain(kafka.saslPassword);
    expect(listed.text).toContain("events-sasl");
  }, 60_000);

  it("tests PostgreSQL with SELECT 1, S3 with a listing and HTTP with a GET carrying the bearer token", async () => {
    const pg = new URL(testPostgresUrl());
    expect((await put(editor, "warehouse", { kind: "postgres", settings: { host: pg.hostname, port: Number(pg.port), database: "postgres", user: "postgres" } })).status).toBe(200);
    const selected = await test(editor, "warehouse");
    expect(selected.body).toMatchObject({ ok: true });
    expect(selected.body.message).toContain("answered 1");
    expect((await put(editor, "warehouse-down", { kind: "postgres", settings: { host: "127.0.0.1", port: 1, database: "postgres", user: "postgres" } })).status).toBe(200);
    expect((await test(editor, "warehouse-down")).body.ok).toBe(false);

    const bucket = await s3.createBucket();
    const s3Spec = { kind: "s3", settings: { endpoint: s3.endpoint, region: s3.region, bucket, force_path_style: true }, secrets: { access_key_id: "s3/id", secret_access_key: "s3/key" } };
    expect((await put(editor, "lake", s3Spec)).status).toBe(200);
    const listed = await test(editor, "lake");
    expect(listed.body).toMatchObject({ ok: true });
    expect(listed.body.message).toContain(bucket);
    expect((await put(editor, "lake-wrong", { ...s3Spec, secrets: { access_key_id: "s3/id", secret_access_key: "web/token" } })).status).toBe(200);
    const refused = await test(editor, "lake-wrong");
    expect(refused.body.ok).toBe(false);
    expect(refused.body.message).not.toContain("web-token-5d1e");

    webAuth = [];
    expect((await put(editor, "site", { kind: "http", settings: { url: `${webUrl}/` }, secrets: { bearer_token: "web/token" } })).status).toBe(200);
    expect((await test(editor, "site")).body.ok).toBe(true);
    expect(webAuth).toEqual(["Bearer web-token-5d1e"]);
    expect((await put(editor, "site-missing", { kind: "http", settings: { url: `${webUrl}/missing` } })).status).toBe(200);
    const missing = await test(editor, "site-missing");
    expect(missing.body.ok).toBe(false);
    expect(missing.body.message).toContain("404");
  }, 60_000);

  it("gives a task's environment the documented variables, secret values included", async () => {
    const service = new ConnectionService(s.platform.store, s.platform.secrets);
    const env = await service.environment("team-a", ["events-sasl"]);
    expect(env).toEqual({
      [connectionVariable("events-sasl", "kind")]: "kafka",
      CAPSTAN_CONN_EVENTS_SASL_BOOTSTRAP_SERVERS: kafka.saslBootstrap,
      CAPSTAN_CONN_EVENTS_SASL_SASL_MECHANISM: "PLAIN",
      CAPSTAN_CONN_EVENTS_SASL_SASL_USERNAME: kafka.saslUsername,
      CAPSTAN_CONN_EVENTS_SASL_SASL_PASSWORD: kafka.saslPassword,
    });
  });

  it("refuses a task whose two connections would write one environment variable, naming both", async () => {
    expect((await put(editor, "x", { kind: "kafka", settings: { bootstrap_servers: [kafka.saslBootstrap], sasl_mechanism: "PLAIN", sasl_username: "u" }, secrets: { sasl_password: "kafka/password" } })).status).toBe(200);
    expect((await put(editor, "x-sasl", { kind: "postgres", settings: { host: "h", database: "d", user: "u" }, secrets: { password: "web/token" } })).status).toBe(200);
    const service = new ConnectionService(s.platform.store, s.platform.secrets);
    await expect(service.taskEnvironment("team-a", ["x", "x-sasl"])).rejects.toThrow(/connections x and x-sasl of one task both give CAPSTAN_CONN_X_SASL_PASSWORD/);
    await expect(service.taskEnvironment("team-a", ["x-sasl", "x"])).rejects.toThrow(/connections x-sasl and x of one task both give CAPSTAN_CONN_X_SASL_PASSWORD/);
    expect(Object.keys((await service.taskEnvironment("team-a", ["x", "x"])).secretEnv)).toEqual(["CAPSTAN_CONN_X_SASL_PASSWORD"]);
    for (const name of ["x", "x-sasl"]) expect((await s.call("DELETE", `/api/connections/team-a/${name}`, { token: editor.token })).status).toBe(204);
  });

  it("runs a task with connections: [NAME] in its environment, the credential masked in its log", async () => {
    const trigger = await s.call<{ id: string }>("POST", "/api/pipelines/uses-kafka/runs", { token: editor.token, body: {} });
    expect(trigger.status).toBe(201);
    const run = await s.waitForRun(trigger.body.id);
    expect(run.state).toBe("success");
    const log = await s.call<{ text: string }>("GET", `/api/runs/${run.id}/tasks/show/logs`, { token: editor.token });
    expect(log.body.text).toContain(`servers=${kafka.saslBootstrap} user=${kafka.saslUsername} password=***`);
    expect(log.text).not.toContain(kafka.saslPassword);
  }, 60_000);

  it("keeps other teams out, viewers from writing and callers without a session away", async () => {
    expect((await s.call("GET", "/api/connections/team-a/events", { token: outsider.token })).status).toBe(404);
    expect((await test(outsider, "events")).status).toBe(404);
    expect((await put(outsider, "events", { kind: "http", settings: { url: "http://127.0.0.1:1/" } })).status).toBe(404);
    expect((await s.call("DELETE", "/api/connections/team-a/events", { token: outsider.token })).status).toBe(404);
    const outsiderList = await s.call<{ connections: unknown[] }>("GET", "/api/connections", { token: outsider.token });
    expect(outsiderList.body.connections).toEqual([]);
    expect((await s.call("GET", "/api/connections?team=team-a", { token: outsider.token })).status).toBe(404);

    expect((await put(viewer, "events", { kind: "http", settings: { url: "http://127.0.0.1:1/" } })).status).toBe(403);
    expect((await test(viewer, "events")).status).toBe(403);
    expect((await s.call("DELETE", "/api/connections/team-a/events", { token: viewer.token })).status).toBe(403);

    for (const [method, path] of [
      ["GET", "/api/connections"],
      ["GET", "/api/connections/team-a/events"],
      ["PUT", "/api/connections/team-a/events"],
      ["DELETE", "/api/connections/team-a/events"],
      ["POST", "/api/connections/team-a/events/test"],
    ] as const) {
      const answer = await s.call(method, path, method === "PUT" ? { body: { kind: "http", settings: { url: "http://x/" } } } : {});
      expect(answer.status, `${method} ${path}`).toBe(401);
    }
    // An outsider's own team may reference only its own secrets.
    const foreign = await put(outsider, "steal", { kind: "kafka", settings: { bootstrap_servers: [kafka.saslBootstrap] }, secrets: { sasl_password: "kafka/password" } }, "team-b");
    expect(foreign.status).toBe(400);
    expect(foreign.body.error?.message).toContain('team team-b has no secret "kafka"');
  });

  it("answers crafted names and settings with a 400 that names the field and what is accepted", async () => {
    const cases: [string, unknown, string][] = [
      ["a..b", { kind: "http", settings: { url: "http://x/" } }, "connection name"],
      ["a%2Fb", { kind: "http", settings: { url: "http://x/" } }, "connection name"],
      ["Upper", { kind: "http", settings: { url: "http://x/" } }, "lowercase letters"],
      ["ok", { kind: "ftp", settings: {} }, "kind"],
      ["ok", { kind: "kafka", settings: { bootstrap_servers: [] } }, "settings.bootstrap_servers"],
      ["ok", { kind: "kafka", settings: { bootstrap_servers: ["no-port"] } }, "host:port"],
      ["ok", { kind: "http", settings: { url: "file:///etc/passwd" } }, "settings.url"],
      ["ok", { kind: "http", settings: { url: "http://x/", extra: 1 } }, "settings"],
      ["ok", { kind: "postgres", settings: { host: "h", database: "d", user: "u" }, secrets: { password: "nope" } }, "secret reference"],
      ["ok", { kind: "postgres", settings: { host: "h", database: "d", user: "u" }, secrets: { password: "kafka/none" } }, "has no key"],
      ["ok", { kind: "postgres", settings: { host: "h", database: "d", user: "u" }, secrets: { token: "kafka/password" } }, "secrets.token is not a credential"],
      ["ok", { kind: "spark", settings: { master: "spark://h:7077; rm -rf /" } }, "settings.master"],
      ["ok", { kind: "postgres", settings: { host: "h", database: "d", user: "u\u0000x" } }, "settings.user"],
      ["ok", { kind: "postgres", settings: { host: "h", database: "d\nSET role admin", user: "u" } }, "settings.database: printable characters only"],
      ["ok", { kind: "webhdfs", settings: { url: "http://x/", user: "hdfs\r\nX-Injected: 1" } }, "settings.user: printable characters only"],
      ["ok", { kind: "kafka", settings: { bootstrap_servers: ["h:9092"], sasl_username: "a\nb" } }, "settings.sasl_username: printable characters only"],
    ];
    for (const [name, body, expected] of cases) {
      const answer = await put(editor, name, body);
      expect(answer.status, `${name} ${JSON.stringify(body)}`).toBe(400);
      expect(answer.text, `${name} ${JSON.stringify(body)}`).toContain(expected);
    }
    // ".." and "%2E%2E" are resolved by the URL itself and reach no connection route.
    for (const dots of ["..", "%2E%2E"]) expect((await put(editor, dots, { kind: "http", settings: { url: "http://x/" } })).status).toBe(404);
    expect((await s.call("GET", "/api/connections/team-a/nothing", { token: editor.token })).status).toBe(404);
    expect((await s.call("DELETE", "/api/connections/team-a/nothing", { token: editor.token })).status).toBe(404);
    expect((await s.call("DELETE", "/api/connections/team-a/site-missing", { token: editor.token })).status).toBe(204);
    expect(s.serverErrors).toEqual([]);
  });
});
