/**
 * What `capstan storage` asks of the platform: volumes, entries, transfers and share links. Over HTTP
 * it speaks the storage API (docs/storage.md); in this process it says that storage needs a running
 * server, since volumes are reached as a signed-in user of a team.
 */
import { ClientError } from "../errors.js";
import { answerError, callJson, send, type ApiTarget } from "./http-request.js";
import type { CreateShareRequest, EntryPage, EntryView, ShareView, VolumeView } from "./storage-views.js";
import { tusUpload } from "./tus-upload.js";

/** The bytes of a file being downloaded, from `start`. */
export interface Download {
  body: ReadableStream<Uint8Array>;
  /** The first byte sent: the asked offset when the server honoured the Range, else 0. */
  start: number;
  /** The whole file's size, when the server said it. */
  size: number | undefined;
}

/** What an upload reads: a local file (resumable with tus) or a stream (one PUT). */
export type UploadSource = { kind: "file"; file: string; size: number } | { kind: "stream"; body: ReadableStream<Uint8Array> };

export interface UploadOptions {
  overwrite: boolean;
  onProgress?: (sent: number) => void;
}

export interface StorageClient {
  volumes(): Promise<VolumeView[]>;
  /** One page of a folder, in name order. */
  list(volume: string, path: string, page?: { cursor?: string; limit?: number }): Promise<EntryPage>;
  stat(volume: string, path: string): Promise<EntryView>;
  mkdir(volume: string, path: string): Promise<EntryView>;
  move(volume: string, from: string, to: string, overwrite: boolean): Promise<EntryView>;
  copy(volume: string, from: string, to: string, overwrite: boolean): Promise<EntryView>;
  remove(volume: string, path: string, recursive: boolean): Promise<void>;
  download(volume: string, path: string, options?: { start?: number }): Promise<Download>;
  upload(volume: string, path: string, source: UploadSource, options: UploadOptions): Promise<EntryView>;
  createShare(request: CreateShareRequest): Promise<ShareView>;
  shares(options?: { all?: boolean }): Promise<ShareView[]>;
  unshare(id: string): Promise<void>;
}

const v = (volume: string) => `/api/volumes/${encodeURIComponent(volume)}`;
const q = (params: Record<string, string | number | boolean | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  return search.toString();
};
/** Entry answers come as the entry or as { entry }. */
const entryOf = (answer: EntryView | { entry: EntryView }): EntryView => ("entry" in answer ? answer.entry : answer);

/** The storage API of a Capstan server. */
export class HttpStorageClient implements StorageClient {
  readonly #target: ApiTarget;
  constructor(baseUrl: string, token: string | undefined) {
    this.#target = { baseUrl, token };
  }

  async volumes() {
    return (await callJson<{ volumes: VolumeView[] }>(this.#target, "GET", "/api/volumes")).volumes;
  }
  list(volume: string, path: string, page: { cursor?: string; limit?: number } = {}) {
    return callJson<EntryPage>(this.#target, "GET", `${v(volume)}/entries?${q({ path, cursor: page.cursor, limit: page.limit })}`);
  }
  async stat(volume: string, path: string) {
    return entryOf(await callJson<EntryView | { entry: EntryView }>(this.#target, "GET", `${v(volume)}/stat?${q({ path })}`));
  }
  async mkdir(volume: string, path: string) {
    return entryOf(await callJson<EntryView | { entry: EntryView }>(this.#target, "POST", `${v(volume)}/folders`, { path }));
  }
  async move(volume: string, from: string, to: string, overwrite: boolean) {
    return entryOf(await callJson<EntryView | { entry: EntryView }>(this.#target, "POST", `${v(volume)}/move`, { from, to, ...(overwrite ? { overwrite } : {}) }));
  }
  async copy(volume: string, from: string, to: string, overwrite: boolean) {
    return entryOf(await callJson<EntryView | { entry: EntryView }>(this.#target, "POST", `${v(volume)}/copy`, { from, to, ...(overwrite ? { overwrite } : {}) }));
  }
  async remove(volume: string, path: string, recursive: boolean) {
    await callJson(this.#target, "DELETE", `${v(volume)}/entries?${q({ path, recursive: recursive ? "true" : undefined })}`);
  }

  async download(volume: string, path: string, options: { start?: number } = {}): Promise<Download> {
    const start = options.start ?? 0;
    const response = await send(this.#target, "GET", `${v(volume)}/files?${q({ path, download: 1 })}`, { headers: start > 0 ? { range: `bytes=${start}-` } : {} });
    if (response.status === 416 && start > 0) {
      // What we hold is not a prefix of the file any more (it shrank): start again.
      await response.body?.cancel();
      return this.download(volume, path);
    }
    if (!response.ok) throw await answerError(response, `download of ${volume}:${path}`);
    if (!response.body) throw new ClientError(`the server sent no body for ${volume}:${path}`, 1);
    const partial = response.status === 206;
    const range = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
    const length = response.headers.get("content-length");
    const size = partial ? (range ? Number(range[1]) : undefined) : length !== null ? Number(length) : undefined;
    return { body: response.body, start: partial ? start : 0, size };
  }

  async upload(volume: string, path: string, source: UploadSource, options: UploadOptions): Promise<EntryView> {
    if (source.kind === "file" && source.size > 0) {
      const done = await tusUpload(this.#target, source.file, source.size, { endpoint: `${v(volume)}/uploads`, path, overwrite: options.overwrite, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      if (done) return this.stat(volume, path);
    }
    const body = source.kind === "file" ? await fileStream(source.file) : source.body;
    const response = await send(this.#target, "PUT", `${v(volume)}/files?${q({ path, overwrite: options.overwrite ? "true" : undefined })}`, {
      headers: { "content-type": "application/octet-stream", ...(source.kind === "file" ? { "content-length": String(source.size) } : {}) },
      body: countingStream(body, options.onProgress),
      duplex: true,
    });
    if (!response.ok) throw await answerError(response, `upload of ${volume}:${path}`);
    const text = await response.text();
    return text === "" ? this.stat(volume, path) : entryOf(JSON.parse(text) as EntryView | { entry: EntryView });
  }

  async createShare(request: CreateShareRequest) {
    return (await callJson<{ share: ShareView }>(this.#target, "POST", "/api/shares", request)).share;
  }
  async shares(options: { all?: boolean } = {}) {
    return (await callJson<{ shares: ShareView[] }>(this.#target, "GET", `/api/shares${options.all ? "?all=true" : ""}`)).shares;
  }
  async unshare(id: string) {
    await callJson(this.#target, "DELETE", `/api/shares/${encodeURIComponent(id)}`);
  }
}

/** Storage in this process: volumes belong to teams and are reached as a signed-in user, through a server. */
export class ServerOnlyStorageClient implements StorageClient {
  volumes = refuse;
  list = refuse;
  stat = refuse;
  mkdir = refuse;
  move = refuse;
  copy = refuse;
  remove = refuse;
  download = refuse;
  upload = refuse;
  createShare = refuse;
  shares = refuse;
  unshare = refuse;
}

function refuse(): Promise<never> {
  return Promise.reject(new ClientError("storage is served by a running Capstan: start `capstan up` for this home, or use --server URL with `capstan login`", 2));
}

async function fileStream(file: string): Promise<ReadableStream<Uint8Array>> {
  const { createReadStream } = await import("node:fs");
  const { Readable } = await import("node:stream");
  return Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
}

/** Passes a stream through, telling `onProgress` the bytes so far. */
function countingStream(body: ReadableStream<Uint8Array>, onProgress: ((sent: number) => void) | undefined): ReadableStream<Uint8Array> {
  if (!onProgress) return body;
  let sent = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        onProgress(sent);
        controller.enqueue(chunk);
      },
    }),
  );
}
