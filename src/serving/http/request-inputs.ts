/**
 * Turns an HTTP request body into a handler's named inputs, as TorchServe does: each field of a
 * multipart/form-data or urlencoded form is an input by its name; any other body is one input named
 * `body` with the request's content type.
 */
import { badRequest } from "../errors.js";
import type { JobInput } from "../workers/index.js";

/** The inputs of one request. */
export function requestInputs(contentTypeHeader: string | undefined, body: Buffer | undefined): JobInput[] {
  const contentType = (contentTypeHeader ?? "").split(";")[0]!.trim().toLowerCase();
  const data = body ?? Buffer.alloc(0);
  if (contentType === "multipart/form-data") return multipartInputs(contentTypeHeader ?? "", data);
  if (contentType === "application/x-www-form-urlencoded") {
    return [...new URLSearchParams(data.toString("utf8"))].map(([name, value]) => ({ name, contentType: "text/plain", value: Buffer.from(value) }));
  }
  return [{ name: "body", contentType, value: data }];
}

function multipartInputs(header: string, data: Buffer): JobInput[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(header);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) throw badRequest("multipart/form-data body without a boundary parameter");
  const delimiter = Buffer.from(`--${marker}`);
  const inputs: JobInput[] = [];
  let at = data.indexOf(delimiter);
  if (at < 0) throw badRequest("multipart/form-data body holds no part");
  for (;;) {
    at += delimiter.length;
    if (data.subarray(at, at + 2).toString() === "--") break;
    const headerEnd = data.indexOf("\r\n\r\n", at);
    if (headerEnd < 0) throw badRequest("a multipart part has no header end");
    const headers = data.subarray(at, headerEnd).toString("utf8");
    const next = data.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headerEnd + 4);
    if (next < 0) throw badRequest("a multipart part is not closed by its boundary");
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined) throw badRequest("a multipart part has no name in Content-Disposition");
    const partType = /content-type:\s*([^\r\n;]+)/i.exec(headers)?.[1]?.trim().toLowerCase();
    const isFile = /content-disposition:[^\r\n]*\bfilename=/i.test(headers);
    inputs.push({ name, contentType: partType ?? (isFile ? "application/octet-stream" : "text/plain"), value: data.subarray(headerEnd + 4, next) });
    at = next + 2;
  }
  return inputs;
}
