/**
 * Conformance with papermill: every corpus notebook runs under the real papermill and under
 * `capstan notebook run` with the same arguments; the output notebooks must be equal byte for
 * byte once volatile values are masked, and the exit codes must be the same.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conformanceCases } from "./conformance-cases.js";
import { firstDifference, maskVolatile } from "./support/mask.js";
import { assertPythonReady, capstanBin, corpusDir, papermill, python } from "./support/paths.js";
import { runProcess } from "./support/run-process.js";

let workDir: string;

beforeAll(async () => {
  assertPythonReady();
  workDir = await mkdtemp(join(tmpdir(), "capstan-conformance-"));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function prepare(dir: string, notebook: string, files: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await copyFile(join(corpusDir, `${notebook}.ipynb`), join(dir, "input.ipynb"));
  for (const file of files) {
    await copyFile(join(corpusDir, file), join(dir, file));
  }
}

async function readOutput(dir: string): Promise<string | undefined> {
  return readFile(join(dir, "output.ipynb"), "utf8").catch(() => undefined);
}

describe("capstan notebook run matches papermill", () => {
  for (const testCase of conformanceCases) {
    const name = testCase.name ?? testCase.notebook;
    it(`${name}: ${testCase.covers}`, async () => {
      const papermillDir = join(workDir, name, "papermill");
      const capstanDir = join(workDir, name, "capstan");
      await prepare(papermillDir, testCase.notebook, testCase.files ?? []);
      await prepare(capstanDir, testCase.notebook, testCase.files ?? []);
      const env: NodeJS.ProcessEnv = { ...process.env, CAPSTAN_PYTHON: python };
      delete env["CAPSTAN_KERNEL_POOL_DIR"];
      const reference = await runProcess(papermill, ["input.ipynb", "output.ipynb", ...testCase.args, "--no-progress-bar"], { cwd: papermillDir, env });
      const ours = await runProcess(process.execPath, [capstanBin, "notebook", "run", "input.ipynb", "output.ipynb", ...testCase.args, "--no-progress-bar"], { cwd: capstanDir, env });
      const expected = await readOutput(papermillDir);
      const actual = await readOutput(capstanDir);
      expect(expected, `papermill wrote no output: ${reference.stderr}`).toBeDefined();
      expect(actual, `capstan wrote no output: ${ours.stderr}`).toBeDefined();
      const maskedExpected = maskVolatile(expected ?? "", { allIds: testCase.allIdsRandom ?? false });
      const maskedActual = maskVolatile(actual ?? "", { allIds: testCase.allIdsRandom ?? false });
      expect(maskedActual === maskedExpected, firstDifference(maskedExpected, maskedActual)).toBe(true);
      for (const file of testCase.sideFiles ?? []) {
        const reference = await readFile(join(papermillDir, file), "utf8").catch(() => undefined);
        expect(reference, `papermill wrote no ${file}`).toBeDefined();
        expect(await readFile(join(capstanDir, file), "utf8").catch(() => undefined), file).toBe(reference);
      }
      expect(ours.code, `exit codes differ; capstan stderr:\n${ours.stderr}\npapermill stderr:\n${reference.stderr.slice(-2000)}`).toBe(reference.code);
    }, 240_000);
  }
});
