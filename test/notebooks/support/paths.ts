/** Where the notebook tests find the repository, the Python venv and papermill. */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from this file's location. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The Python with ipykernel: $CAPSTAN_PYTHON, else the repository's .venv. */
export const python = process.env["CAPSTAN_PYTHON"] || join(repoRoot, ".venv", "bin", "python");

/** papermill, installed beside that Python by scripts/setup-python.sh --test. */
export const papermill = join(dirname(python), "papermill");

/** The corpus of conformance notebooks. */
export const corpusDir = join(repoRoot, "test", "notebooks", "corpus");

/** The capstan command (it runs dist/, which the suite's global setup rebuilds when sources are newer). */
export const capstanBin = join(repoRoot, "bin", "capstan.js");

/** Fails with a clear message when the venv is missing. */
export function assertPythonReady(): void {
  if (!existsSync(python) || !existsSync(papermill)) {
    throw new Error(`the notebook tests need ${python} with ipykernel and ${papermill}: run scripts/setup-python.sh --test`);
  }
}
