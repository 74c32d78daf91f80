/**
 * Conformance with papermill: every corpus notebook runs under the real papermill and under
 * `capstan notebook run` with the same arguments — once starting its kernel cold, once claiming it
 * from a warm kernel pool as `capstan up` runs by default; the output notebooks must be equal byte
 * for byte once volatile values are masked, the masked times must have the shapes papermill and
 * nbclient write (durations ≥ 0 and equal to end − start), and the exit codes must be the same.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { KernelPool } from "../../src/notebooks/index.js";
import { BackgroundWork, keyedLock, priorityLimit } from "../support/concurrency.js";
import { startS3Testenv, type S3Testenv } from "../support/s3-testenv.js";
import { PoolLayout } from "../../src/notebooks/pool/pool-layout.js";
import { conformanceCases, type ConformanceCase } from "./conformance-cases.js";
import { firstDifference, maskStreams, maskVolatile, timeProblems } from "./support/mask.js";
import { assertPythonReady, capstanBin, corpusDir, papermill, python, repoRoot } from "./support/paths.js";
import { runProcess, runShell, type ProcessResult } from "./support/run-process.js";

let workDir: string;
/** Serves the corpus over http for the cases that read a notebook from a URL. */
let corpusServer: Server;
let corpusUrl: string;
/** A real S3 server holding the corpus, for the s3:// cases. */
let s3: S3Testenv;
let s3Bucket: string;

beforeAll(async () => {
  assertPythonReady();
  workDir = await mkdtemp(join(tmpdir(), "capstan-conformance-"));
  corpusServer = createServer((request, response) => {
    const name = (request.url ?? "").slice(1);
    if (!/^[\w-]+\.ipynb$/.test(name)) {
      response.writeHead(404).end();
      return;
    }
    readFile(join(corpusDir, name)).then(
      (body) => response.writeHead(200, { "content-type": "application/x-ipynb+json" }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => corpusServer.listen(0, "127.0.0.1", resolve));
  corpusUrl = `http://127.0.0.1:${(corpusServer.address() as AddressInfo).port}`;
  s3 = await startS3Testenv();
  s3Bucket = await s3.createBucket("conformance");
  for (const name of await readdir(corpusDir)) {
    if (name.endsWith(".ipynb")) await s3.client.send(new PutObjectCommand({ Bucket: s3Bucket, Key: name, Body: await readFile(join(corpusDir, name)) }));
  }
}, 120_000);


async function prepare(dir: string, notebook: string, files: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await copyFile(join(corpusDir, `${notebook}.ipynb`), join(dir, "input.ipynb"));
  for (const file of files) {
    await copyFile(join(corpusDir, file), join(dir, file));
  }
}

async function readOutput(dir: string, testCase: ConformanceCase): Promise<string | undefined> {
  return readFile(join(dir, testCase.output ?? "output.ipynb"), "utf8").catch(() => undefined);
}

/** Runs one runner (`runner` is its argv) on a case in `dir`. */
function runCase(runner: string[], testCase: ConformanceCase, dir: string, env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  if (testCase.shell !== undefined) {
    return runShell(testCase.shell, {
      cwd: dir,
      env: { ...env, RUN: runner.join(" "), HTTP: corpusUrl, S3_BUCKET: s3Bucket, S3_TAKE_PYTHON: python, S3_TAKE: join(repoRoot, "test", "notebooks", "support", "s3-take.py") },
    });
  }
  const [command = "", ...rest] = runner;
  return runProcess(command, [...rest, "input.ipynb", "output.ipynb", ...testCase.args, "--no-progress-bar"], { cwd: dir, env });
}

interface Reference {
  dir: string;
  result: ProcessResult;
  output: string | undefined;
}

/** What one capstan run of a case left: its process result and its output notebook. */
interface CapstanRun {
  dir: string;
  result: ProcessResult;
  output: string | undefined;
}

/**
 * The runs are started ahead of the cases that check them, side by side (each run mostly waits on
 * its kernel), the earliest case's runs first. The runs of one case never overlap: some share state
 * outside their folders (the s3-output case writes one object key).
 */
const RUNS_AT_ONCE = 3;
const limit = priorityLimit(RUNS_AT_ONCE);
const caseLock = keyedLock();
const background = new BackgroundWork();
const caseName = (testCase: ConformanceCase) => testCase.name ?? testCase.notebook;
const caseIndex = (testCase: ConformanceCase) => conformanceCases.indexOf(testCase);

/** papermill's run of a case, once per case for both comparisons. */
const references = new Map<string, Promise<Reference>>();
function papermillRun(testCase: ConformanceCase): Promise<Reference> {
  const name = caseName(testCase);
  let reference = references.get(name);
  if (!reference) {
    reference = background.start(
      limit(caseIndex(testCase), () =>
        caseLock(name, async () => {
          const dir = join(workDir, name, "papermill");
          await prepare(dir, testCase.notebook, testCase.files ?? []);
          const result = await runCase([papermill], testCase, dir, baseEnv());
          return { dir, result, output: await readOutput(dir, testCase) };
        }),
      ),
    );
    references.set(name, reference);
  }
  return reference;
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAPSTAN_PYTHON: python,
    // Both runners reach the test S3 server the standard way (papermill's boto3 also reads BOTO3_ENDPOINT_URL).
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_DEFAULT_REGION: s3.region,
    AWS_ENDPOINT_URL: s3.endpoint,
    BOTO3_ENDPOINT_URL: s3.endpoint,
  };
  delete env["CAPSTAN_KERNEL_POOL_DIR"];
  return env;
}

/** Runs a case under capstan in `folder`, with `env` (taking the case's lock, not a place among the runs at once). */
function capstanRun(testCase: ConformanceCase, folder: string, env: NodeJS.ProcessEnv): Promise<CapstanRun> {
  const name = caseName(testCase);
  return caseLock(name, async () => {
    const dir = join(workDir, name, folder);
    await prepare(dir, testCase.notebook, testCase.files ?? []);
    const result = await runCase([process.execPath, capstanBin, "notebook", "run"], testCase, dir, env);
    return { dir, result, output: await readOutput(dir, testCase) };
  });
}

/** Compares capstan's run of a case with papermill's. */
async function compare(testCase: ConformanceCase, run: CapstanRun): Promise<void> {
  const reference = await papermillRun(testCase);
  const ours = run.result;
  const capstanDir = run.dir;
  const expected = reference.output;
  const actual = run.output;
  for (const stream of testCase.streams ?? []) {
    expect(maskStreams(ours[stream]), `${stream}; capstan stderr:\n${ours.stderr}`).toBe(maskStreams(reference.result[stream]));
  }
  const exitCodes = `exit codes differ; capstan stderr:\n${ours.stderr}\npapermill stderr:\n${reference.result.stderr.slice(-2000)}`;
  if (testCase.output === null) {
    expect(expected, "papermill wrote an output notebook").toBeUndefined();
    expect(actual, "capstan wrote an output notebook").toBeUndefined();
    expect(ours.code, exitCodes).toBe(reference.result.code);
    return;
  }
  expect(expected, `papermill wrote no output: ${reference.result.stderr}`).toBeDefined();
  expect(actual, `capstan wrote no output: ${ours.stderr}`).toBeDefined();
  // The oracle first holds for papermill itself, then for capstan.
  expect(timeProblems(expected ?? ""), "papermill's times").toEqual([]);
  expect(timeProblems(actual ?? ""), "capstan's times").toEqual([]);
  const maskedExpected = maskVolatile(expected ?? "", { allIds: testCase.allIdsRandom ?? false });
  const maskedActual = maskVolatile(actual ?? "", { allIds: testCase.allIdsRandom ?? false });
  expect(maskedActual === maskedExpected, firstDifference(maskedExpected, maskedActual)).toBe(true);
  for (const file of testCase.sideFiles ?? []) {
    const sideReference = await readFile(join(reference.dir, file), "utf8").catch(() => undefined);
    expect(sideReference, `papermill wrote no ${file}`).toBeDefined();
    expect(await readFile(join(capstanDir, file), "utf8").catch(() => undefined), file).toBe(sideReference);
  }
  expect(ours.code, exitCodes).toBe(reference.result.code);
}

/** The cold runs: each case after papermill's run of it, side by side with the other cases. */
const coldRuns = new Map<ConformanceCase, Promise<CapstanRun>>();
function startColdRuns(): void {
  for (const testCase of conformanceCases) {
    const run = papermillRun(testCase).then(
      () => limit(caseIndex(testCase), () => capstanRun(testCase, "capstan", baseEnv())),
      () => limit(caseIndex(testCase), () => capstanRun(testCase, "capstan", baseEnv())),
    );
    coldRuns.set(testCase, background.start(run));
  }
}

/** A warm-pool run of a case: the pool's ready tickets before it, the run, and which of them are left after it. */
interface WarmRun {
  before: string[];
  run: CapstanRun;
  left: string[];
}

let pool: KernelPool | undefined;
let poolDir: string;
/** Ready kernels' tickets (not the temporary files they are written through). */
const tickets = async (): Promise<string[]> => (await readdir(new PoolLayout(poolDir).readyDir("python3"))).filter((entry) => entry.endsWith(".json"));
/** The ready tickets, once the pool holds one again (a claim empties it until refilled). */
const readyTickets = async (): Promise<string[]> => {
  const deadline = Date.now() + 120_000;
  let entries = await tickets();
  while (entries.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    entries = await tickets();
  }
  return entries;
};

/**
 * The warm runs: one case after another, as the pool (one warm kernel) serves them, beside the cold
 * runs. A case whose run fails to start leaves the next ones to go on.
 */
const warmRuns = new Map<ConformanceCase, Promise<WarmRun>>();
function startWarmRuns(): void {
  poolDir = join(workDir, "kernel-pool");
  // As `capstan up` starts it by default: one warm python3 kernel, started from the fork server.
  pool = new KernelPool({ dir: poolDir, size: 1, kernelspecs: ["python3"], python, env: baseEnv() });
  const started = pool.start();
  started.catch(() => undefined);
  // A failed start fails every warm case; a failed case does not stop the next.
  let previous: Promise<unknown> = Promise.resolve();
  for (const testCase of conformanceCases) {
    const run = previous.then(async () => {
      await started;
      const before = await readyTickets();
      const ran = await capstanRun(testCase, "capstan-warm", { ...baseEnv(), CAPSTAN_KERNEL_POOL_DIR: poolDir });
      const left = (await tickets()).filter((entry) => before.includes(entry));
      return { before, run: ran, left };
    });
    warmRuns.set(testCase, background.start(run));
    previous = run.catch(() => undefined);
  }
}

beforeAll(() => {
  startColdRuns();
  startWarmRuns();
});

afterAll(async () => {
  await background.settled();
  await pool?.stop();
  await new Promise((resolve) => corpusServer.close(resolve));
  await s3?.stop();
  await rm(workDir, { recursive: true, force: true });
});

describe("capstan notebook run matches papermill", () => {
  for (const testCase of conformanceCases) {
    it(`${caseName(testCase)}: ${testCase.covers}`, async () => {
      const run = coldRuns.get(testCase);
      if (!run) throw new Error(`no cold run of ${caseName(testCase)} was started`);
      await compare(testCase, await run);
    }, 240_000);
  }
});

describe("capstan notebook run with a kernel from the warm pool matches papermill", () => {
  for (const testCase of conformanceCases) {
    it(`${caseName(testCase)}: ${testCase.covers}`, async () => {
      const warm = warmRuns.get(testCase);
      if (!warm) throw new Error(`no warm run of ${caseName(testCase)} was started`);
      const { before, run, left } = await warm;
      expect(before, "ready kernels in the pool").toHaveLength(1);
      await compare(testCase, run);
      // Every case that starts a kernel (not --prepare-only, not one that fails first) ran on the pool's ready kernel.
      expect(left, "the ready kernel's ticket after the run").toHaveLength(testCase.noKernel || testCase.args.includes("--prepare-only") ? 1 : 0);
    }, 240_000);
  }
});
