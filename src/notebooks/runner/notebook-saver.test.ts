/** Large notebooks are saved in batches, small ones after every cell, and always at the end. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutputNotWritableError } from "../errors.js";
import { newCodeCell, type Notebook } from "../nbformat/notebook.js";
import { NotebookSaver } from "./notebook-saver.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "capstan-saver-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function notebook(cells: number): Notebook {
  return { cells: Array.from({ length: cells }, (_, index) => newCodeCell(`x = ${index}`)), metadata: {}, nbformat: 4, nbformat_minor: 5 };
}

describe("NotebookSaver", () => {
  it("saves a small notebook after every cell", async () => {
    const nb = notebook(3);
    const saver = new NotebookSaver(nb, { path: join(dir, "small.ipynb") });
    await saver.save();
    for (const cell of nb.cells) {
      cell.source += "\n# done";
      saver.changed(cell);
      await saver.saveAfterCell();
    }
    expect(saver.saves).toBe(4);
    expect(await readFile(join(dir, "small.ipynb"), "utf8")).toBe(saver.text());
  });

  it("batches the saves of a large notebook and writes the last state at the end", async () => {
    const nb = notebook(50);
    const saver = new NotebookSaver(nb, { path: join(dir, "large.ipynb"), smallBytes: 0, intervalMs: 3_600_000 });
    await saver.save();
    for (const cell of nb.cells) {
      cell.source += "\n# changed";
      saver.changed(cell);
      await saver.saveAfterCell();
    }
    expect(saver.saves).toBe(1);
    await saver.save();
    expect(saver.saves).toBe(2);
    expect(await readFile(join(dir, "large.ipynb"), "utf8")).toContain("# changed");
  });

  it("autosaves during a cell once the interval has passed, and never with autosaveMs 0", async () => {
    for (const [autosaveMs, expected] of [[1, 2], [0, 1]] as const) {
      const nb = notebook(2);
      const saver = new NotebookSaver(nb, { path: join(dir, `autosave-${autosaveMs}.ipynb`), autosaveMs });
      await saver.save();
      const cell = nb.cells[0];
      if (cell) cell.source += "\nprint('tick')";
      saver.changed(cell);
      await new Promise((resolve) => setTimeout(resolve, 5));
      saver.autosave();
      await saver.save().then(() => undefined);
      expect(saver.saves - 1).toBe(expected);
    }
  });

  it("re-encodes only changed cells but always writes the current state", () => {
    const nb = notebook(2);
    const saver = new NotebookSaver(nb, { path: join(dir, "cache.ipynb") });
    const before = saver.text();
    const first = nb.cells[0];
    if (first) {
      first.source = "changed = True";
      saver.changed(first);
    }
    expect(saver.text()).not.toBe(before);
    expect(saver.text()).toContain("changed = True");
  });

  it("fails with OutputNotWritableError when the directory does not exist", async () => {
    const saver = new NotebookSaver(notebook(1), { path: join(dir, "missing", "out.ipynb") });
    await expect(saver.save()).rejects.toThrow(OutputNotWritableError);
    await expect(saver.save()).rejects.toThrow(/cannot write the output notebook .*missing\/out\.ipynb/);
  });
});
