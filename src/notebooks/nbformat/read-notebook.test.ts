/** Notebooks are read as nbformat reads them and written back byte for byte; bad input is refused with the place and the reason. */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { NotebookFormatError } from "../errors.js";
import { parseNotebook } from "./read-notebook.js";
import { serializeNotebook } from "./write-notebook.js";

const corpus = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test", "notebooks", "corpus");

describe("parseNotebook and serializeNotebook", () => {
  const files = readdirSync(corpus).filter((file) => file.endsWith(".ipynb") && file !== "old-minor.ipynb" && file !== "nbformat-v3.ipynb");
  for (const file of files) {
    it(`writes ${file} back exactly as nbformat wrote it`, () => {
      const text = readFileSync(join(corpus, file), "utf8");
      expect(serializeNotebook(parseNotebook(text, file))).toBe(text);
    });
  }

  it("splits text into lines as Python's splitlines(True) does", () => {
    const notebook = parseNotebook(JSON.stringify({ cells: [{ cell_type: "markdown", id: "a", metadata: {}, source: "x\r\ny\rz\u2028w" }], metadata: {}, nbformat: 4, nbformat_minor: 5 }), "n.ipynb");
    expect(serializeNotebook(notebook)).toContain('"source": [\n    "x\\r\\n",\n    "y\\r",\n    "z\u2028",\n    "w"\n   ]');
  });

  it("gives every cell of an nbformat 4.2 notebook a fresh 8-hex id", () => {
    const notebook = parseNotebook(readFileSync(join(corpus, "old-minor.ipynb"), "utf8"), "old-minor.ipynb");
    expect(notebook.nbformat_minor).toBe(5);
    expect(notebook.cells.every((cell) => /^[0-9a-f]{8}$/.test(cell.id))).toBe(true);
  });

  it("converts nbformat 3: worksheets, headings, inputs and prompt numbers", () => {
    const notebook = parseNotebook(readFileSync(join(corpus, "nbformat-v3.ipynb"), "utf8"), "nbformat-v3.ipynb");
    expect(notebook.cells.map((cell) => [cell.cell_type, cell.source])).toEqual([
      ["markdown", "## An old heading"],
      ["code", "x = 21\nprint(x * 2)"],
      ["markdown", "some *markdown*"],
    ]);
    expect(notebook.cells[1]?.["execution_count"]).toBe(7);
    expect(notebook.cells[1]?.["outputs"]).toEqual([{ output_type: "stream", name: "stdout", text: "stale\n" }]);
  });

  it("repairs duplicate and missing cell ids", () => {
    const notebook = parseNotebook(JSON.stringify({ cells: [{ cell_type: "raw", id: "same", source: "" }, { cell_type: "raw", id: "same", source: "" }, { cell_type: "raw", source: "" }], metadata: {}, nbformat: 4, nbformat_minor: 5 }), "n");
    const ids = notebook.cells.map((cell) => cell.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toBe("same");
  });
});

describe("bad input", () => {
  function reason(text: string): string {
    try {
      parseNotebook(text, "in.ipynb");
    } catch (error) {
      expect(error).toBeInstanceOf(NotebookFormatError);
      return (error as Error).message;
    }
    throw new Error("no error");
  }

  it("names the line and column of invalid JSON", () => {
    expect(reason('{\n "cells": [,\n}')).toMatch(/^in\.ipynb:2:12: not valid JSON: /);
  });

  it("says what a notebook is when the JSON is something else", () => {
    expect(reason("[1, 2]")).toBe('in.ipynb: not a notebook: expected a JSON object with "cells", "metadata", "nbformat" and "nbformat_minor", found a list');
  });

  it("refuses nbformat 2 and says how to upgrade", () => {
    expect(reason('{"nbformat": 2, "worksheets": []}')).toMatch(/nbformat 2 is not supported: Capstan reads nbformat 3 and 4; open and save the notebook with Jupyter/);
  });

  it("refuses a v4 notebook without a minor version", () => {
    expect(reason('{"nbformat": 4, "cells": [], "metadata": {}}')).toMatch(/"nbformat_minor" is missing/);
  });

  it("names the field of a malformed cell", () => {
    expect(reason('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 3}]}')).toMatch(/cells\[0\]\.source must be a string or a list of strings, found the number 3/);
  });
});
