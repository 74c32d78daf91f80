/**
 * The in-memory notebook (nbformat 4.5): plain JSON objects with multi-line text joined into
 * strings, exactly as nbformat holds a notebook between reading and writing.
 */
import { isJsonObject, type JsonObject, type JsonValue } from "../values/json-value.js";

/** The nbformat version Capstan reads into and writes. */
export const NBFORMAT = 4;
/** The nbformat minor version Capstan writes. */
export const NBFORMAT_MINOR = 5;

/** One output of a code cell. */
export interface NotebookOutput extends JsonObject {
  output_type: string;
}

/** A cell; code cells also carry `outputs` and `execution_count`. */
export interface NotebookCell extends JsonObject {
  cell_type: string;
  id: string;
  metadata: JsonObject;
  source: string;
}

/** A code cell. */
export interface CodeCell extends NotebookCell {
  cell_type: "code";
  outputs: NotebookOutput[];
  execution_count: number | null;
}

/** A whole notebook. */
export interface Notebook extends JsonObject {
  cells: NotebookCell[];
  metadata: JsonObject;
  nbformat: number;
  nbformat_minor: number;
}

/** True for a code cell. */
export function isCodeCell(cell: NotebookCell): cell is CodeCell {
  return cell.cell_type === "code";
}

/** The tags of a cell (`metadata.tags`), empty when missing or malformed. */
export function cellTags(cell: NotebookCell): string[] {
  const tags = cell.metadata["tags"];
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === "string") : [];
}

/** Index of the first cell carrying a tag, or -1. */
export function findTaggedCell(notebook: Notebook, tag: string): number {
  return notebook.cells.findIndex((cell) => cellTags(cell).includes(tag));
}

/** A fresh 8-hex-digit cell id, as nbformat makes them. */
export function newCellId(): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, 8);
}

/** A new code cell as `nbformat.v4.new_code_cell` makes it. */
export function newCodeCell(source: string, metadata: JsonObject = {}): CodeCell {
  return { cell_type: "code", execution_count: null, id: newCellId(), metadata, outputs: [], source };
}

/** A new markdown cell as `nbformat.v4.new_markdown_cell` makes it. */
export function newMarkdownCell(source: string, metadata: JsonObject = {}): NotebookCell {
  return { cell_type: "markdown", id: newCellId(), metadata, source };
}

/** The `metadata.papermill` object of a notebook or cell, created when missing. */
export function papermillMetadata(holder: { metadata: JsonObject }): JsonObject {
  const existing = holder.metadata["papermill"];
  if (isJsonObject(existing)) {
    return existing;
  }
  const created: JsonObject = {};
  holder.metadata["papermill"] = created;
  return created;
}

/** Reads a string field or returns undefined. */
export function stringField(object: JsonObject, key: string): string | undefined {
  const value: JsonValue | undefined = object[key];
  return typeof value === "string" ? value : undefined;
}
