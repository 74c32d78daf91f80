/**
 * Reads notebook JSON into the nbformat 4.5 model as `nbformat.reads(text, as_version=4)` followed
 * by `nbformat.v4.upgrade` does: joins multi-line text, converts nbformat 3, upgrades older 4.x
 * minors (fresh cell ids), repairs missing and duplicate ids, and refuses what it cannot read with
 * the place and the reason.
 */
import { readFile } from "node:fs/promises";
import { readRemoteNotebook, type NotebookPlaces } from "../locations/notebook-location.js";
import { NotebookFormatError } from "../errors.js";
import { isJsonObject, JsonParseError, parseJson, type JsonObject, type JsonValue } from "../values/json-value.js";
import { isStringList, splitLinesKeepEnds } from "./lines.js";
import { NBFORMAT, NBFORMAT_MINOR, newCellId, type Notebook } from "./notebook.js";

const CELL_TYPES = new Set(["code", "markdown", "raw"]);

/** Reads and upgrades the notebook at `path`: a local file, an http(s) URL, an s3:// object or VOLUME:PATH. */
export async function readNotebookFile(path: string, places: NotebookPlaces = {}): Promise<Notebook> {
  const remote = await readRemoteNotebook(path, places);
  if (remote !== undefined) {
    return parseNotebook(remote, path);
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new NotebookFormatError(path, `cannot read the input notebook: ${(error as Error).message}`, { cause: error });
  }
  return parseNotebook(text, path);
}

/** Parses notebook JSON text; `source` names it in errors (a path or "stdin"). */
export function parseNotebook(text: string, source: string): Notebook {
  let parsed: JsonValue;
  try {
    parsed = parseJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    if (error instanceof JsonParseError) {
      const { line, column, message } = error.problem;
      throw new NotebookFormatError(`${source}:${line}:${column}`, `not valid JSON: ${message}; a notebook is a JSON object`, { cause: error });
    }
    throw error;
  }
  if (!isJsonObject(parsed)) {
    throw new NotebookFormatError(source, `not a notebook: expected a JSON object with "cells", "metadata", "nbformat" and "nbformat_minor", found ${describe(parsed)}`);
  }
  const major = parsed["nbformat"] ?? 1;
  if (major === 3) {
    return finishV4(upgradeFromV3(parsed, source), source);
  }
  if (major !== 4) {
    throw new NotebookFormatError(
      source,
      typeof major === "number"
        ? `nbformat ${major} is not supported: Capstan reads nbformat 3 and 4; open and save the notebook with Jupyter to upgrade it`
        : `"nbformat" must be a number (3 or 4), found ${describe(major)}`,
    );
  }
  if (!("nbformat_minor" in parsed)) {
    throw new NotebookFormatError(source, `"nbformat_minor" is missing: the v4 notebook does not include the nbformat minor, which is needed`);
  }
  const minor = parsed["nbformat_minor"];
  if (typeof minor !== "number") {
    throw new NotebookFormatError(source, `"nbformat_minor" must be an integer, found ${describe(minor ?? null)}`);
  }
  const notebook = checkV4Shape(parsed, source);
  if (minor < NBFORMAT_MINOR) {
    for (const cell of notebook.cells) {
      cell.id = newCellId();
    }
  }
  notebook.nbformat_minor = NBFORMAT_MINOR;
  return finishV4(notebook, source);
}

function checkV4Shape(parsed: JsonObject, source: string): Notebook {
  const cells = parsed["cells"];
  if (!Array.isArray(cells)) {
    throw new NotebookFormatError(source, `"cells" must be a list of cells, found ${describe(cells ?? null)}`);
  }
  if (parsed["metadata"] === undefined) {
    parsed["metadata"] = {};
  } else if (!isJsonObject(parsed["metadata"])) {
    throw new NotebookFormatError(source, `"metadata" must be an object, found ${describe(parsed["metadata"])}`);
  }
  cells.forEach((cell, index) => {
    const where = `cells[${index}]`;
    if (!isJsonObject(cell)) {
      throw new NotebookFormatError(source, `${where} must be an object, found ${describe(cell)}`);
    }
    if (typeof cell["cell_type"] !== "string" || !CELL_TYPES.has(cell["cell_type"])) {
      throw new NotebookFormatError(source, `${where}.cell_type must be "code", "markdown" or "raw", found ${describe(cell["cell_type"] ?? null)}`);
    }
    cell["source"] = joinText(cell["source"], `${where}.source`, source);
    if (cell["metadata"] === undefined) {
      cell["metadata"] = {};
    } else if (!isJsonObject(cell["metadata"])) {
      throw new NotebookFormatError(source, `${where}.metadata must be an object, found ${describe(cell["metadata"])}`);
    }
    delete cell["metadata"]["trusted"];
    const attachments = cell["attachments"];
    if (isJsonObject(attachments)) {
      for (const bundle of Object.values(attachments)) {
        if (isJsonObject(bundle)) {
          rejoinMimeBundle(bundle);
        }
      }
    }
    if (cell["cell_type"] === "code") {
      if (cell["outputs"] === undefined) {
        cell["outputs"] = [];
      }
      if (!Array.isArray(cell["outputs"])) {
        throw new NotebookFormatError(source, `${where}.outputs must be a list, found ${describe(cell["outputs"])}`);
      }
      if (cell["execution_count"] === undefined) {
        cell["execution_count"] = null;
      }
      for (const output of cell["outputs"]) {
        if (!isJsonObject(output) || typeof output["output_type"] !== "string") {
          throw new NotebookFormatError(source, `${where}.outputs: each output must be an object with an "output_type"`);
        }
        rejoinOutput(output);
      }
    }
  });
  const metadata = parsed["metadata"];
  delete metadata["orig_nbformat"];
  delete metadata["orig_nbformat_minor"];
  delete metadata["signature"];
  return parsed as Notebook;
}

function rejoinOutput(output: JsonObject): void {
  const type = output["output_type"];
  if (type === "execute_result" || type === "display_data") {
    if (isJsonObject(output["data"])) {
      rejoinMimeBundle(output["data"]);
    }
  } else if (isStringList(output["text"])) {
    output["text"] = output["text"].join("");
  }
}

function rejoinMimeBundle(bundle: JsonObject): void {
  for (const [mime, value] of Object.entries(bundle)) {
    if (!isJsonMime(mime) && isStringList(value)) {
      bundle[mime] = value.join("");
    }
  }
}

/** application/json and application/*+json values are data, never joined or split. */
export function isJsonMime(mime: string): boolean {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

function joinText(value: JsonValue | undefined, where: string, source: string): string {
  if (typeof value === "string") {
    return value;
  }
  if (isStringList(value)) {
    return value.join("");
  }
  throw new NotebookFormatError(source, `${where} must be a string or a list of strings, found ${describe(value ?? null)}`);
}

function finishV4(notebook: Notebook, _source: string): Notebook {
  // nbformat.validate repairs what 4.5 requires: an id on every cell, no two alike.
  const seen = new Set<string>();
  for (const cell of notebook.cells) {
    if (typeof cell.id !== "string" || cell.id === "" || seen.has(cell.id)) {
      cell.id = newCellId();
    }
    seen.add(cell.id);
  }
  notebook.nbformat = NBFORMAT;
  return notebook;
}

// eslint-disable-next-line no-control-regex -- Python line breaks include \x1c-\x1e
const LINE_END = /(?:\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])$/;
const V3_MULTILINE_OUTPUTS = ["text", "html", "svg", "latex", "javascript", "json"];
const V3_MIME_ALIASES: [string, string][] = [
  ["text", "text/plain"],
  ["html", "text/html"],
  ["svg", "image/svg+xml"],
  ["png", "image/png"],
  ["jpeg", "image/jpeg"],
  ["latex", "text/latex"],
  ["json", "application/json"],
  ["javascript", "application/javascript"],
];

function joinV3Lines(value: JsonValue | undefined): JsonValue | undefined {
  if (!isStringList(value)) {
    return value;
  }
  const first = value[0];
  return first !== undefined && (first.endsWith("\n") || first.endsWith("\r")) ? value.join("") : value.join("\n");
}

function upgradeFromV3(parsed: JsonObject, source: string): Notebook {
  const metadata = isJsonObject(parsed["metadata"]) ? parsed["metadata"] : {};
  delete metadata["name"];
  delete metadata["signature"];
  const cells: JsonValue[] = [];
  const worksheets = Array.isArray(parsed["worksheets"]) ? parsed["worksheets"] : [];
  for (const worksheet of worksheets) {
    const wsCells = isJsonObject(worksheet) && Array.isArray(worksheet["cells"]) ? worksheet["cells"] : [];
    for (const cell of wsCells) {
      if (!isJsonObject(cell)) {
        throw new NotebookFormatError(source, `a nbformat 3 cell must be an object, found ${describe(cell)}`);
      }
      cells.push(upgradeV3Cell(cell));
    }
  }
  const upgraded: JsonObject = { ...parsed, cells, metadata, nbformat: NBFORMAT, nbformat_minor: NBFORMAT_MINOR };
  delete upgraded["worksheets"];
  delete upgraded["orig_nbformat"];
  delete upgraded["orig_nbformat_minor"];
  return checkV4Shape(upgraded, source);
}

function upgradeV3Cell(cell: JsonObject): JsonObject {
  if (cell["metadata"] === undefined) {
    cell["metadata"] = {};
  }
  cell["id"] = newCellId();
  const type = cell["cell_type"];
  if (type === "code") {
    cell["input"] = joinV3Lines(cell["input"]) ?? "";
    delete cell["language"];
    if ("collapsed" in cell && isJsonObject(cell["metadata"])) {
      cell["metadata"]["collapsed"] = cell["collapsed"] ?? null;
      delete cell["collapsed"];
    }
    cell["source"] = cell["input"];
    delete cell["input"];
    cell["execution_count"] = cell["prompt_number"] ?? null;
    delete cell["prompt_number"];
    const outputs = Array.isArray(cell["outputs"]) ? cell["outputs"] : [];
    cell["outputs"] = outputs.map((output) => (isJsonObject(output) ? upgradeV3Output(output) : output));
  } else {
    for (const key of ["source", "rendered"]) {
      const joined = joinV3Lines(cell[key]);
      if (joined !== undefined) {
        cell[key] = joined;
      }
    }
    if (type === "heading") {
      const level = typeof cell["level"] === "number" ? cell["level"] : 1;
      delete cell["level"];
      cell["cell_type"] = "markdown";
      const text = typeof cell["source"] === "string" ? cell["source"] : "";
      cell["source"] = `${"#".repeat(level)} ${splitLinesKeepEnds(text).map((line) => line.replace(LINE_END, "")).join(" ")}`;
    } else if (type === "html") {
      cell["cell_type"] = "markdown";
    }
  }
  return cell;
}

function upgradeV3Output(output: JsonObject): JsonObject {
  for (const key of V3_MULTILINE_OUTPUTS) {
    const joined = joinV3Lines(output[key]);
    if (joined !== undefined) {
      output[key] = joined;
    }
  }
  const type = output["output_type"];
  if (type === "pyout" || type === "display_data") {
    const metadata = isJsonObject(output["metadata"]) ? output["metadata"] : {};
    if (type === "pyout") {
      output["output_type"] = "execute_result";
      output["execution_count"] = output["prompt_number"] ?? null;
      delete output["prompt_number"];
    }
    const data: JsonObject = {};
    for (const key of Object.keys(output)) {
      if (key !== "output_type" && key !== "execution_count" && key !== "metadata") {
        data[key] = output[key] ?? null;
        delete output[key];
      }
    }
    toMimeKeys(data);
    toMimeKeys(metadata);
    const json = data["application/json"];
    if (typeof json === "string") {
      data["application/json"] = parseJson(json);
    }
    output["data"] = data;
    output["metadata"] = metadata;
  } else if (type === "pyerr") {
    output["output_type"] = "error";
  } else if (type === "stream") {
    output["name"] = output["stream"] ?? "stdout";
    delete output["stream"];
  }
  return output;
}

function toMimeKeys(bundle: JsonObject): void {
  for (const [alias, mime] of V3_MIME_ALIASES) {
    if (alias in bundle) {
      bundle[mime] = bundle[alias] ?? null;
      delete bundle[alias];
    }
  }
}

function describe(value: JsonValue): string {
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "a list";
  }
  if (isJsonObject(value)) {
    return "an object";
  }
  return `${typeof value === "string" ? "the string" : typeof value === "object" ? "the number" : `the ${typeof value}`} ${typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : String(typeof value === "object" ? value.value : value)}`;
}

