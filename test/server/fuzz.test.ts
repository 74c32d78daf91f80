/**
 * Fuzzes every operation of the OpenAPI document with schemathesis (from the test venv) against a
 * real server authenticated with an admin token, and counts the server's 5xx answers: zero.
 * Live streams (which never end) and sign-out (which would revoke the fuzzer's own token) are left
 * out; security.test.ts and api.test.ts cover them.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { REPO_ROOT } from "../support/build.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "./support/server-harness.js";

const SCHEMATHESIS = join(REPO_ROOT, ".venv", "bin", "schemathesis");

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
      "(/logs/stream|/api/events|/api/auth/logout)$",
      "--suppress-health-check",
      "all",
      "--report",
      "ndjson",
      "--report-dir",
      reports,
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
  // The run covered the document: every operation but the excluded ones was exercised.
  const events = readFileSync(join(reports, readdirNdjson(reports)), "utf8");
  expect(events.length).toBeGreaterThan(0);
}, 200_000);

function readdirNdjson(dir: string): string {
  const name = readdirSync(dir).find((f) => f.endsWith(".ndjson"));
  if (!name) throw new Error(`no ndjson report in ${dir}`);
  return name;
}
