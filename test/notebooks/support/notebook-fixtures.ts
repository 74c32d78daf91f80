/** Helpers for the notebook tests: a small notebook builder and the venv's Python. */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serializeNotebook } from "../../../src/notebooks/nbformat/write-notebook.js";
import { newCodeCell, type Notebook } from "../../../src/notebooks/nbformat/notebook.js";
import { isJsonObject } from "../../../src/notebooks/values/json-value.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The Python with ipykernel: $CAPSTAN_PYTHON, else the repository's .venv. */
export const testPython = process.env["CAPSTAN_PYTHON"] || join(repoRoot, ".venv", "bin", "python");

/** Fails with a clear message when the venv is missing. */
export function assertTestPython(): void {
  if (!existsSync(testPython)) {
    throw new Error(`notebook tests need ${testPython} with ipykernel: run scripts/setup-python.sh --test`);
  }
}

/** Writes a python3 notebook with one code cell per source, returns its path. */
export async function writeNotebook(path: string, sources: string[], kernel = "python3", language = "python"): Promise<string> {
  const notebook: Notebook = {
    cells: sources.map((source) => newCodeCell(source)),
    metadata: { kernelspec: { name: kernel, display_name: kernel, language } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  await writeFile(path, serializeNotebook(notebook));
  return path;
}

/** The stdout text of a code cell of an executed notebook. */
export function cellText(notebook: Notebook, index: number): string {
  const cell = notebook.cells[index];
  const outputs = cell && Array.isArray(cell["outputs"]) ? cell["outputs"] : [];
  return outputs
    .map((output) => (isJsonObject(output) && typeof output["text"] === "string" ? output["text"] : ""))
    .join("");
}
