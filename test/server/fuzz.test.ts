/**
 * Fuzzes every operation of the OpenAPI document with schemathesis (from the test venv) against a
 * real server authenticated with an admin token, and counts the server's 5xx answers: zero.
 * Live streams (which never end) and sign-out (which would revoke the fuzzer's own token) are left
 * out; security.test.ts and api.test.ts cover them. Schemathesis' own reports are read back: its
 * JUnit report must name every other operation of the document without a failure, and its HAR
 * record must hold requests to each of them and no 5xx answer.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { REPO_ROOT } from "../support/build.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "./support/server-harness.js";

const SCHEMATHESIS = join(REPO_ROOT, ".venv", "bin", "schemathesis");
/** Paths left out of fuzzing: live streams and sign-out. */
const EXCLUDED_PATHS = "(/logs/stream|/api/events|/api/auth/logout)$";
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

interface Operation {
  method: string;
  path: string;
  pattern: RegExp;
  /** Path parameters: a literal path wins over a template that also matches it. */
  params: number;
}

/** The operations of an OpenAPI document, as schemathesis labels them ("GET /api/runs/{run}"). */
function operations(doc: { paths?: Record<string, Record<string, unknown>> }): Operation[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m))
      .map((m) => ({
        method: m.toUpperCase(),
        path,
        pattern: new RegExp(`^${path.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")).join("[^/]+")}$`),
        params: (path.match(/\{/g) ?? []).length,
      })),
  );
}

const xmlText = (text: string) => text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** Test cases of a JUnit report by name, with what they hold besides success (failure, error, skipped). */
function junitCases(xml: string): Map<string, string[]> {
  const cases = new Map<string, string[]>();
  for (const match of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const name = /\bname="([^"]*)"/.exec(match[1] ?? "")?.[1];
    if (name === undefined) continue;
    const outcomes = [...(match[3] ?? "").matchAll(/<(failure|error|skipped)\b[^>]*?(?:message="([^"]*)")?/g)].map((m) => `${m[1]}${m[2] ? `: ${xmlText(m[2])}` : ""}`);
    cases.set(xmlText(name), [...(cases.get(xmlText(name)) ?? []), ...outcomes]);
  }
  return cases;
}

interface HarEntry {
  request: { method: string; url: string };
  response: { status: number };
}

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function run(command: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // In a folder of its own: schemathesis keeps a cache (.schemathesis/) in its working folder.
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`schemathesis did not finish within ${timeoutMs} ms\n${output.slice(-4000)}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it("answers schemathesis' generated requests to every operation without a single 5xx", async () => {
  expect(existsSync(SCHEMATHESIS), "schemathesis is missing from .venv: run scripts/setup-python.sh --test").toBe(true);
  h = await openServer({
    pipelines: {
      "typed.yaml": `id: typed
team: fuzz
schedule: "@daily"
start_date: 2026-01-01
catchup: false
params:
  count: { type: integer, default: 1, minimum: 0, maximum: 10 }
  ratio: { type: number, default: 0.5 }
  name: { type: string, default: x, enum: [x, y] }
  flag: { type: boolean, default: false }
  items: { type: array, default: [] }
  options: { type: object, default: {} }
tasks:
  a: { command: "true" }
  b: { command: "true", depends_on: [a] }
`,
    },
  });
  const s = h;
  // Some runs, tasks and logs exist before fuzzing, so generated ids sometimes hit real things.
  const seeded = await s.call<{ id: string }>("POST", "/api/pipelines/typed/runs", { token: s.admin.token, body: {} });
  await s.waitForRun(seeded.body.id);
  // The document as fuzzing starts (the fuzzer may revoke the admin's token on the way).
  const doc = await s.call<{ paths?: Record<string, Record<string, unknown>> }>("GET", "/api/openapi.json", { token: s.admin.token });
  expect(doc.status, doc.text).toBe(200);
  const reports = tempDir("capstan-fuzz-");
  // Known ids are offered half of the time, so generated requests also reach real runs, tasks and pipelines.
  const config = join(reports, "schemathesis.toml");
  writeFileSync(
    config,
    [
      `[dictionaries.runs]\nvalues = [${JSON.stringify(seeded.body.id)}]`,
      `[dictionaries.tasks]\nvalues = ["a", "b"]`,
      `[dictionaries.pipelines]\nvalues = ["typed"]`,
      `[dictionaries.teams]\nvalues = ["fuzz"]`,
      `[parameters]`,
      `"path.run" = { dictionary = "runs", probability = 0.5 }`,
      `"path.task" = { dictionary = "tasks", probability = 0.5 }`,
      `"path.id" = { dictionary = "pipelines", probability = 0.5 }`,
      `"path.team" = { dictionary = "teams", probability = 0.5 }`,
      `"query.pipeline" = { dictionary = "pipelines", probability = 0.5 }`,
      `"query.run" = { dictionary = "runs", probability = 0.5 }`,
      "",
    ].join("\n"),
  );
  const result = await run(
    SCHEMATHESIS,
    [
      "--config-file",
      config,
      "run",
      `${s.url}/api/openapi.json`,
      "--url",
      s.url,
      "-H",
      `Authorization: Bearer ${s.admin.token}`,
      "--checks",
      "not_a_server_error",
      "--phases",
      "examples,coverage,fuzzing",
      "--max-examples",
      "25",
      "--workers",
      "2",
      "--seed",
      "20261128",
      "--request-timeout",
      "20",
      "--exclude-path-regex",
      EXCLUDED_PATHS,
      "--suppress-health-check",
      "all",
      "--report",
      "junit,har",
      "--report-junit-path",
      join(reports, "junit.xml"),
      "--report-har-path",
      join(reports, "requests.har"),
      "--no-color",
    ],
    reports,
    { SCHEMATHESIS_HOOKS: "", PYTHONUNBUFFERED: "1" },
    170_000,
  );
  // The whole output is kept as a test artifact (test-results/ is not committed).
  mkdirSync(join(REPO_ROOT, "test-results"), { recursive: true });
  writeFileSync(join(REPO_ROOT, "test-results", "schemathesis.log"), result.output);
  const tail = result.output.slice(-6000);
  expect(s.serverErrors, tail).toEqual([]);
  expect(result.code, tail).toBe(0);
  // The run covered the document: every operation but the excluded ones was exercised, and passed.
  const excluded = new RegExp(EXCLUDED_PATHS);
  const wanted = operations(doc.body).filter((op) => !excluded.test(op.path));
  expect(wanted.length, "operations in the OpenAPI document").toBeGreaterThan(20);
  const cases = junitCases(readFileSync(join(reports, "junit.xml"), "utf8"));
  const labels = wanted.map((op) => `${op.method} ${op.path}`);
  expect(labels.filter((label) => !cases.has(label)), "operations missing from the JUnit report").toEqual([]);
  expect(labels.filter((label) => (cases.get(label) ?? []).length > 0).map((label) => `${label}: ${(cases.get(label) ?? []).join("; ")}`), "operations that did not pass").toEqual([]);

  // Each request schemathesis made, attributed to the most literal operation its path matches.
  const entries = (JSON.parse(readFileSync(join(reports, "requests.har"), "utf8")) as { log: { entries: HarEntry[] } }).log.entries;
  const requests = new Map<string, number>(labels.map((label) => [label, 0]));
  for (const entry of entries) {
    const path = new URL(entry.request.url).pathname;
    const op = wanted.filter((o) => o.method === entry.request.method && o.pattern.test(path)).sort((a, b) => a.params - b.params)[0];
    if (op) requests.set(`${op.method} ${op.path}`, (requests.get(`${op.method} ${op.path}`) ?? 0) + 1);
  }
  expect([...requests].filter(([, n]) => n === 0).map(([label]) => label), "operations never requested").toEqual([]);
  expect(entries.filter((e) => e.response.status >= 500).map((e) => `${e.request.method} ${e.request.url} → ${e.response.status}`), "5xx answers in the HAR record").toEqual([]);
}, 200_000);
