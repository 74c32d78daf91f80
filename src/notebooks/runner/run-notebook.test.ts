/** runNotebook on a real ipykernel: setup errors come before any cell runs, a dead kernel fails at once, outputs stream live. */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelDiedError, KernelNotFoundError, KernelStartError, OutputNotWritableError, ParameterTranslationError } from "../errors.js";
import { PyFloat } from "../values/py-float.js";
import { assertTestPython, cellText, testPython, writeNotebook } from "../../../test/notebooks/support/notebook-fixtures.js";
import type { LiveOutput } from "./output-tracker.js";
import { runNotebook } from "./run-notebook.js";

let dir: string;

beforeAll(async () => {
  assertTestPython();
  dir = await mkdtemp(join(tmpdir(), "capstan-run-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("runNotebook", () => {
  it("fails on an unwritable output before any cell runs", async () => {
    const marker = join(dir, "ran-marker");
    const input = await writeNotebook(join(dir, "marker.ipynb"), [`open(${JSON.stringify(marker)}, "w").close()`]);
    await expect(runNotebook({ inputPath: input, outputPath: join(dir, "no", "such", "dir", "out.ipynb"), python: testPython })).rejects.toThrow(OutputNotWritableError);
    expect(existsSync(marker)).toBe(false);
  });

  it("lists the kernels found when the notebook's kernel is unknown", async () => {
    const input = await writeNotebook(join(dir, "unknown.ipynb"), ["1"], "no-such-kernel");
    const error = await runNotebook({ inputPath: input, outputPath: join(dir, "unknown-out.ipynb"), python: testPython }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KernelNotFoundError);
    expect((error as Error).message).toMatch(/no kernel named 'no-such-kernel'; kernels found: .*python3 \(/);
  });

  it("names the parameter the notebook's language cannot represent", async () => {
    const input = await writeNotebook(join(dir, "bash.ipynb"), ["echo $x"], "bash", "bash");
    const error = await runNotebook({
      inputPath: input,
      outputPath: join(dir, "bash-out.ipynb"),
      parameters: new Map([["config", new Map([["a", 1]])]]),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ParameterTranslationError);
    expect((error as ParameterTranslationError).parameter).toBe("config");
  });

  it("fails with KernelStartError when the kernel cannot be started", async () => {
    const specs = join(dir, "specs");
    await mkdir(join(specs, "kernels", "missing-binary"), { recursive: true });
    await writeFile(join(specs, "kernels", "missing-binary", "kernel.json"), JSON.stringify({ argv: [join(dir, "no-such-python"), "-f", "{connection_file}"], display_name: "x", language: "python" }));
    const input = await writeNotebook(join(dir, "nostart.ipynb"), ["1"], "missing-binary");
    const error = await runNotebook({ inputPath: input, outputPath: join(dir, "nostart-out.ipynb"), env: { ...process.env, JUPYTER_PATH: specs } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KernelStartError);
    expect((error as Error).message).toMatch(/kernel 'missing-binary' did not start: the kernel process ended before it answered \(could not start: spawn .*no-such-python ENOENT\)/);
  });

  it("runs in the given cwd with the given environment and parameters", async () => {
    const input = await writeNotebook(join(dir, "env.ipynb"), ["import os\nprint(os.getcwd(), os.environ['CAPSTAN_TEST_VALUE'], rate)"]);
    const result = await runNotebook({
      inputPath: input,
      outputPath: join(dir, "env-out.ipynb"),
      cwd: dir,
      env: { ...process.env, CAPSTAN_TEST_VALUE: "from-env" },
      python: testPython,
      parameters: new Map([["rate", new PyFloat(0.5)]]),
    });
    expect(cellText(result.notebook, 1)).toBe(`${dir} from-env 0.5\n`);
  });

  it("fails at once with KernelDiedError (exit code 138) when the kernel dies", async () => {
    const input = await writeNotebook(join(dir, "dies.ipynb"), ["import os\nos._exit(3)", "print('never')"]);
    const error = await runNotebook({ inputPath: input, outputPath: join(dir, "dies-out.ipynb"), python: testPython }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KernelDiedError);
    expect((error as KernelDiedError).exitCode).toBe(138);
    expect((error as KernelDiedError).cellIndex).toBe(0);
    expect((error as Error).message).toMatch(/kernel died while running cell 1 \(index 0\): exit code 3/);
  });

  it("streams outputs as they arrive and works over tcp too", async () => {
    const input = await writeNotebook(join(dir, "live.ipynb"), ["import sys\nprint('out', flush=True)\nprint('err', file=sys.stderr, flush=True)\n41 + 1"]);
    const seen: LiveOutput[] = [];
    await runNotebook({ inputPath: input, outputPath: join(dir, "live-out.ipynb"), python: testPython, transport: "tcp", events: { output: (output) => seen.push(output) } });
    expect(seen.map((output) => [output.stream, output.text])).toEqual([
      ["stdout", "out\n"],
      ["stderr", "err\n"],
      ["data", "42"],
    ]);
  });
});
