/**
 * Writes the notebook model as `nbformat.writes` does: multi-line text split into line lists,
 * transient keys dropped, Python's JSON layout (indent 1, sorted keys, no trailing newline).
 * A serializer keeps each cell's text until the cell changes, so saving a large notebook after a
 * cell re-encodes only what changed.
 */
import { rename, unlink, writeFile, open } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { compareCodePoints, isJsonObject, jsonString, stringifyJson, type JsonObject, type JsonValue } from "../values/json-value.js";
import { splitLinesKeepEnds } from "./lines.js";
import type { Notebook, NotebookCell } from "./notebook.js";

const SPLIT_MIMES = new Set(["application/javascript", "image/svg+xml"]);
const TRANSIENT_NOTEBOOK_METADATA = new Set(["orig_nbformat", "orig_nbformat_minor", "signature"]);

function splitMimeBundle(bundle: JsonObject): JsonObject {
  const copy: JsonObject = {};
  for (const [mime, value] of Object.entries(bundle)) {
    copy[mime] = typeof value === "string" && (mime.startsWith("text/") || SPLIT_MIMES.has(mime)) ? splitLinesKeepEnds(value) : value;
  }
  return copy;
}

/** The on-disk form of one cell (a shallow copy; shared data is not modified). */
function diskCell(cell: NotebookCell): JsonObject {
  const copy: JsonObject = { ...cell };
  if (typeof cell.source === "string") {
    copy["source"] = splitLinesKeepEnds(cell.source);
  }
  if (isJsonObject(cell.metadata) && "trusted" in cell.metadata) {
    const metadata = { ...cell.metadata };
    delete metadata["trusted"];
    copy["metadata"] = metadata;
  }
  const attachments = cell["attachments"];
  if (isJsonObject(attachments)) {
    const split: JsonObject = {};
    for (const [name, bundle] of Object.entries(attachments)) {
      split[name] = isJsonObject(bundle) ? splitMimeBundle(bundle) : bundle;
    }
    copy["attachments"] = split;
  }
  if (cell.cell_type === "code" && Array.isArray(cell["outputs"])) {
    copy["outputs"] = cell["outputs"].map((output: JsonValue) => {
      if (!isJsonObject(output)) {
        return output;
      }
      const type = output["output_type"];
      if ((type === "execute_result" || type === "display_data") && isJsonObject(output["data"])) {
        return { ...output, data: splitMimeBundle(output["data"]) };
      }
      if (type === "stream" && typeof output["text"] === "string") {
        return { ...output, text: splitLinesKeepEnds(output["text"]) };
      }
      return output;
    });
  }
  return copy;
}

/** Serializes notebooks, reusing the text of cells that have not changed since the last call. */
export class NotebookSerializer {
  private readonly cellText = new WeakMap<NotebookCell, string>();

  /** Forgets the cached text of a cell; call after every change to it. */
  invalidate(cell: NotebookCell): void {
    this.cellText.delete(cell);
  }

  /** The notebook as nbformat JSON text. */
  serialize(notebook: Notebook): string {
    const keys = Object.keys(notebook)
      .filter((key) => notebook[key] !== undefined)
      .sort(compareCodePoints);
    const items = keys.map((key) => `${jsonString(key)}: ${this.serializeKey(notebook, key)}`);
    return items.length === 0 ? "{}" : `{\n ${items.join(",\n ")}\n}`;
  }

  private serializeKey(notebook: Notebook, key: string): string {
    if (key === "cells" && Array.isArray(notebook.cells)) {
      if (notebook.cells.length === 0) {
        return "[]";
      }
      return `[\n  ${notebook.cells.map((cell) => this.serializeCell(cell)).join(",\n  ")}\n ]`;
    }
    if (key === "metadata" && isJsonObject(notebook.metadata)) {
      const metadata: JsonObject = {};
      for (const [name, value] of Object.entries(notebook.metadata)) {
        if (!TRANSIENT_NOTEBOOK_METADATA.has(name)) {
          metadata[name] = value;
        }
      }
      return stringifyJson(metadata, 1);
    }
    return stringifyJson(notebook[key] as JsonValue, 1);
  }

  private serializeCell(cell: NotebookCell): string {
    let text = this.cellText.get(cell);
    if (text === undefined) {
      text = stringifyJson(diskCell(cell), 2);
      this.cellText.set(cell, text);
    }
    return text;
  }
}

/** The notebook as nbformat JSON text (no cache). */
export function serializeNotebook(notebook: Notebook): string {
  return new NotebookSerializer().serialize(notebook);
}

/**
 * Writes text to `path` through a temporary file and a rename, so a reader never sees half a
 * notebook; falls back to writing in place when the directory refuses new files.
 */
export async function writeTextAtomically(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, text, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EACCES" || (error as NodeJS.ErrnoException).code === "EROFS") {
      await writeFile(path, text, "utf8");
      return;
    }
    throw error;
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Fails unless `path` can be created or overwritten, without changing an existing file. */
export async function checkWritable(path: string): Promise<void> {
  const handle = await open(path, "a");
  await handle.close();
}
