/**
 * A tus 1.0.0 upload of a local file (https://tus.io/protocols/resumable-upload): create the upload,
 * then PATCH it in chunks; after a dropped connection, ask the server (HEAD) how much it has and go
 * on from there. The server moves the finished upload to its final name, so an interrupted one
 * leaves nothing there.
 */
import { open } from "node:fs/promises";
import { ClientError } from "../errors.js";
import { answerError, send, type ApiTarget } from "./http-request.js";

const CHUNK_BYTES = 8 * 1024 * 1024;
const RETRIES = 5;

export interface TusUploadOptions {
  /** The volume's uploads endpoint, such as /api/volumes/team-data/uploads. */
  endpoint: string;
  /** Volume-relative target path. */
  path: string;
  overwrite: boolean;
  onProgress?: (sent: number) => void;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/**
 * Uploads `file` (of `size` bytes). Resolves to false when the server does not speak tus at
 * `endpoint` (the caller then sends the file in one PUT).
 */
export async function tusUpload(target: ApiTarget, file: string, size: number, options: TusUploadOptions): Promise<boolean> {
  const metadata = [`path ${b64(options.path)}`, ...(options.overwrite ? [`overwrite ${b64("true")}`] : [])].join(",");
  const created = await send(target, "POST", options.endpoint, { headers: { "tus-resumable": "1.0.0", "upload-length": String(size), "upload-metadata": metadata } });
  if (created.status === 404 || created.status === 405) {
    await created.body?.cancel();
    return false;
  }
  if (created.status !== 201) throw await answerError(created, `upload of ${options.path}`);
  await created.body?.cancel();
  const location = created.headers.get("location");
  if (!location) throw new ClientError("the server created a tus upload without a Location header", 1);
  const uploadUrl = new URL(location, new URL(options.endpoint, target.baseUrl)).toString();

  const handle = await open(file, "r");
  try {
    let offset = 0;
    let failures = 0;
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(size, 1)));
    while (offset < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - offset), offset);
      if (bytesRead === 0) throw new ClientError(`${file} became shorter while it was uploaded (${offset} of ${size} bytes read)`, 2);
      try {
        const answer = await send(target, "PATCH", uploadUrl, {
          headers: { "tus-resumable": "1.0.0", "upload-offset": String(offset), "content-type": "application/offset+octet-stream" },
          body: buffer.subarray(0, bytesRead),
        });
        if (answer.status !== 204 && answer.status !== 200) {
          if (answer.status >= 500 || answer.status === 409) throw new RetryableError(await answerError(answer, `upload of ${options.path}`));
          throw await answerError(answer, `upload of ${options.path}`);
        }
        await answer.body?.cancel();
        offset = Number(answer.headers.get("upload-offset") ?? offset + bytesRead);
        failures = 0;
        options.onProgress?.(offset);
      } catch (error) {
        const retryable = error instanceof RetryableError || (error instanceof ClientError && error.message.startsWith("cannot reach"));
        if (!retryable || ++failures > RETRIES) throw error instanceof RetryableError ? error.cause : error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** failures));
        offset = await serverOffset(target, uploadUrl, offset);
      }
    }
    return true;
  } finally {
    await handle.close();
  }
}

/** What the server holds of the upload (HEAD), to go on after a failed PATCH. */
async function serverOffset(target: ApiTarget, uploadUrl: string, fallback: number): Promise<number> {
  try {
    const head = await send(target, "HEAD", uploadUrl, { headers: { "tus-resumable": "1.0.0" } });
    const offset = Number(head.headers.get("upload-offset"));
    return head.ok && Number.isFinite(offset) ? offset : fallback;
  } catch {
    return fallback;
  }
}

class RetryableError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}
