/**
 * Serving a volume file over HTTP, the one way for the storage routes and the public share routes:
 * one byte range (206, or 416 with the size), the content type, length, ETag and Last-Modified, and
 * the headers that keep uploaded content from running in the platform's origin: every answer is
 * under `Content-Security-Policy: sandbox` with `nosniff`, and active content (HTML, SVG, XML,
 * JavaScript) is always an attachment (filebrowser's stored XSS, CVE-2021-37794).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isActiveContent, type ByteRange, type Storage } from "../storage/index.js";
import { HttpError } from "./errors.js";

/** The headers of every answer that carries user content. */
export function guardUserContent(reply: FastifyReply): void {
  void reply.header("content-security-policy", "sandbox").header("x-content-type-options", "nosniff");
}

/** A Content-Disposition value with the name in ASCII and in UTF-8 (RFC 6266). */
export function contentDisposition(kind: "attachment" | "inline", name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * The range a Range header asks of a file of `size` bytes: undefined for the whole file (no header,
 * or one this server ignores as RFC 9110 allows: several ranges, another unit, bad syntax), or
 * "unsatisfiable" for one that starts past the end.
 */
export function requestedRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? undefined : Number(last);
  if (end !== undefined && end < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return end === undefined ? { start } : { start, end: Math.min(end, size - 1) };
}

export interface FileAnswerOptions {
  /** Force an attachment whatever the content type. */
  download: boolean;
  /** Called once the bytes are about to be sent, with the first byte sent (a share counts a download from byte 0). */
  onSend?: (start: number) => Promise<void>;
}

/** Answers with the file at canonical `path` of `storage`: whole, or the one range asked. */
export async function sendVolumeFile(request: FastifyRequest, reply: FastifyReply, storage: Storage, path: string, options: FileAnswerOptions): Promise<FastifyReply> {
  guardUserContent(reply);
  const entry = await storage.stat(path);
  if (entry.type === "folder") throw new HttpError(409, "wrong_type", `${JSON.stringify(entry.path)} is a folder; download it with zip, or list it with entries`);
  const range = requestedRange(request.headers.range, entry.size);
  if (range === "unsatisfiable") {
    void reply.header("content-range", `bytes */${entry.size}`);
    throw new HttpError(416, "invalid_range", `the range ${request.headers.range ?? ""} starts past the end of the file (${entry.size} bytes)`);
  }
  const body = await storage.read(entry.path, range);
  const name = entry.name;
  const attachment = options.download || isActiveContent(body.contentType);
  void reply
    .header("content-type", body.contentType)
    .header("content-disposition", contentDisposition(attachment ? "attachment" : "inline", name))
    .header("accept-ranges", "bytes")
    .header("content-length", String(body.size === 0 ? 0 : body.end - body.start + 1))
    .header("etag", `"${body.size.toString(16)}-${(body.modified ?? 0).toString(16)}"`);
  if (body.modified !== undefined) void reply.header("last-modified", new Date(body.modified).toUTCString());
  if (range !== undefined) void reply.status(206).header("content-range", `bytes ${body.start}-${body.end}/${body.size}`);
  await options.onSend?.(body.start);
  return reply.send(body.stream);
}
