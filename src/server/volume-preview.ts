/**
 * Previews of volume files for the Files page: text capped at 256 KiB, the first 50 rows of CSV
 * (from the first 256 KiB) and Parquet (hyparquet, reading only the ranges it needs, so a large
 * file on S3 costs a few requests), notebooks rendered as the run pages render output notebooks
 * (views/notebook-html.ts, secret values masked as there; the page shows it in a sandboxed iframe), and
 * raster images as "image" (the page loads them from /files).
 */
import type { Readable } from "node:stream";
import { parquetMetadataAsync, parquetReadObjects, toJson, type AsyncBuffer } from "hyparquet";
import { z } from "zod";
import { CapstanError } from "../errors/index.js";
import type { SecretMask } from "../secrets/index.js";
import type { Storage, StorageEntry } from "../storage/index.js";
import { renderNotebookHtml } from "./views/notebook-html.js";

/** Most bytes of text shown, and read for a CSV preview. */
export const PREVIEW_TEXT_BYTES = 256 * 1024;
/** Rows of a CSV or Parquet preview. */
export const PREVIEW_ROWS = 50;
/** The largest notebook rendered. */
const MAX_PREVIEW_NOTEBOOK_BYTES = 16 * 1024 * 1024;

export const PreviewSchema = z
  .object({
    kind: z.enum(["text", "image", "csv", "parquet", "notebook", "none"]),
    truncated: z.boolean().describe("Only the first part is shown (text over 256 KiB, more rows than 50)"),
    text: z.string().optional(),
    columns: z.array(z.string()).optional(),
    rows: z.array(z.array(z.unknown())).optional(),
    notebookHtml: z.string().optional().describe("A standalone page: show it only in a sandboxed iframe"),
  })
  .meta({ id: "Preview" });
export type Preview = z.infer<typeof PreviewSchema>;

const TEXT_TYPES = /^(text\/|application\/(json|x-ndjson|yaml|xml)\b)/;
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp)$/;

async function readBytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function head(storage: Storage, entry: StorageEntry, bytes: number): Promise<{ text: string; truncated: boolean }> {
  if (entry.size === 0) return { text: "", truncated: false };
  const body = await storage.read(entry.path, { start: 0, end: Math.min(entry.size, bytes) - 1 });
  const buffer = await readBytes(body.stream);
  // A cut multi-byte character at the end decodes as U+FFFD; the rest stays readable.
  return { text: new TextDecoder("utf-8").decode(buffer), truncated: entry.size > bytes };
}

/** Splits CSV text into rows (RFC 4180 quotes; a cut last line is dropped when the text was cut). */
export function csvRows(text: string, limit: number, cut: boolean, delimiter = ","): { rows: string[][]; more: boolean } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      field = "";
      rows.push(row);
      row = [];
      if (rows.length > limit + 1) return { rows: rows.slice(0, limit + 1), more: true };
    } else field += c;
  }
  if (!cut && (field !== "" || row.length > 0)) rows.push([...row, field]);
  if (rows.length > limit + 1) return { rows: rows.slice(0, limit + 1), more: true };
  return { rows, more: cut };
}

/** A file of a volume as hyparquet's random-access buffer: each slice is a ranged read. */
function volumeBuffer(storage: Storage, entry: StorageEntry): AsyncBuffer {
  return {
    byteLength: entry.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const last = (end ?? entry.size) - 1;
      if (last < start) return new ArrayBuffer(0);
      const buffer = await readBytes((await storage.read(entry.path, { start, end: last })).stream);
      return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
    },
  };
}

function unreadable(entry: StorageEntry, what: string, error: unknown): CapstanError {
  return new CapstanError("invalid_file", "unreadable_file", `${JSON.stringify(entry.path)} cannot be read as ${what}: ${error instanceof Error ? error.message : String(error)}`, {
    details: { path: entry.path },
  });
}

/** The preview of the file `entry` of `storage`, by its content type and name. */
export async function previewFile(storage: Storage, entry: StorageEntry, contentType: string, mask: SecretMask): Promise<Preview> {
  if (entry.type === "folder") return { kind: "none", truncated: false };
  const name = entry.name.toLowerCase();
  if (name.endsWith(".parquet")) {
    try {
      const file = volumeBuffer(storage, entry);
      const metadata = await parquetMetadataAsync(file);
      const rows = (await parquetReadObjects({ file, metadata, rowStart: 0, rowEnd: PREVIEW_ROWS })) as Record<string, unknown>[];
      const columns = metadata.schema.slice(1).filter((element) => element.num_children === undefined).map((element) => element.name);
      const topColumns = rows[0] === undefined ? columns : Object.keys(rows[0]);
      return { kind: "parquet", truncated: Number(metadata.num_rows) > PREVIEW_ROWS, columns: topColumns, rows: rows.map((row) => topColumns.map((column) => toJson(row[column]))) };
    } catch (error) {
      throw unreadable(entry, "Parquet", error);
    }
  }
  if (name.endsWith(".ipynb")) {
    if (entry.size > MAX_PREVIEW_NOTEBOOK_BYTES) return { kind: "none", truncated: true };
    const { text } = await head(storage, entry, MAX_PREVIEW_NOTEBOOK_BYTES);
    try {
      return { kind: "notebook", truncated: false, notebookHtml: renderNotebookHtml(text, entry.name, mask) };
    } catch (error) {
      throw unreadable(entry, "a notebook", error);
    }
  }
  if (name.endsWith(".csv") || name.endsWith(".tsv")) {
    const { text, truncated } = await head(storage, entry, PREVIEW_TEXT_BYTES);
    const { rows, more } = csvRows(text, PREVIEW_ROWS, truncated, name.endsWith(".tsv") ? "\t" : ",");
    const [columns = [], ...body] = rows;
    return { kind: "csv", truncated: more, columns, rows: body };
  }
  if (IMAGE_TYPES.test(contentType)) return { kind: "image", truncated: false };
  if (TEXT_TYPES.test(contentType)) {
    const { text, truncated } = await head(storage, entry, PREVIEW_TEXT_BYTES);
    return { kind: "text", truncated, text };
  }
  return { kind: "none", truncated: false };
}
