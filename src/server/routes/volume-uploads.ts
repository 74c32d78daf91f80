/**
 * Resumable uploads to volumes with the tus 1.0.0 protocol (@tus/server): POST
 * /api/volumes/:volume/uploads with Upload-Length and Upload-Metadata `path` (and `overwrite`), then
 * HEAD/PATCH/DELETE /api/volumes/:volume/uploads/:id. Every request passes Capstan's auth and the
 * volume's write rule before tus sees it; an upload's id starts with a digest of its volume and its
 * user, so nobody else can resume, read or end it. The bytes are staged under the Capstan home
 * (@tus/file-store, `uploads/`); once complete they are streamed into the volume with
 * Storage.write, so the final name never holds a half-written file, and the staged copy is removed.
 * Uploads left unfinished expire after a day and are swept every hour.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { FileStore } from "@tus/file-store";
import { Server as TusServer } from "@tus/server";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { volumeFor, volumePath } from "../../operations/index.js";
import { normalizePath, StorageError, type Volume } from "../../storage/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors } from "../schemas.js";

/** How long an unfinished upload may wait for its next bytes. */
const UPLOAD_EXPIRY_MS = 24 * 3600_000;
const SWEEP_INTERVAL_MS = 3600_000;
const ID_PATTERN = /^[0-9a-f]{48}$/;
const URL_PATTERN = /^\/api\/volumes\/([^/]+)\/uploads(?:\/([^/?]+))?/;

/** The first 16 hex digits of an upload id: who may touch it (this volume, this user). */
function ownerDigest(volume: string, username: string): string {
  return createHash("sha256").update(`${volume}\0${username}`).digest("hex").slice(0, 16);
}

/** A refusal answered through @tus/server, which sends an error's `body` with its `status_code`. */
class TusAnswerError extends Error {
  override readonly name = "TusAnswerError";
  readonly body: string;
  constructor(
    readonly status_code: number,
    message: string,
  ) {
    super(message);
    this.body = `${message}\n`;
  }
}

function tusError(status: number, message: string): TusAnswerError {
  return new TusAnswerError(status, message);
}

function statusOf(error: unknown): number {
  if (error instanceof StorageError) return error.kind === "not_found" ? 404 : error.kind === "invalid" ? 400 : error.kind === "unavailable" ? 503 : 409;
  return 500;
}

/** The tus server of a platform: staging under `stagingDir`, finished uploads written into the volumes of `volumes`. */
function tusServer(checkedVolumeOf: (request: Request) => Volume | undefined, stagingDir: string, usernameOf: (request: Request) => string | undefined): TusServer {
  const store = new FileStore({ directory: stagingDir, expirationPeriodInMilliseconds: UPLOAD_EXPIRY_MS });
  const volumeOf = (request: Request) => {
    // The route has checked the caller's right to write it and kept the volume for this request.
    const volume = checkedVolumeOf(request);
    if (volume === undefined) throw tusError(404, `no volume named ${JSON.stringify(URL_PATTERN.exec(new URL(request.url).pathname)?.[1] ?? "")}`);
    return volume;
  };
  return new TusServer({
    path: "/api/volumes/uploads",
    datastore: store,
    // Same origin only: no CORS answer for any other.
    allowedOrigins: () => false,
    relativeLocation: true,
    generateUrl: (request, { id }) => `/api/volumes/${encodeURIComponent(volumeOf(request).name)}/uploads/${id}`,
    getFileIdFromRequest: (_request, lastPath) => (lastPath !== undefined && ID_PATTERN.test(lastPath) ? lastPath : undefined),
    namingFunction: (request) => `${ownerDigest(volumeOf(request).name, usernameOf(request) ?? "")}${randomBytes(16).toString("hex")}`,
    onUploadCreate: async (request, upload) => {
      const volume = volumeOf(request);
      const target = upload.metadata?.path;
      if (target === undefined || target === null) throw tusError(400, "Upload-Metadata needs path: the file's path in the volume (base64), such as raw/data.csv");
      let canonical: string;
      try {
        canonical = normalizePath(volumePath(target));
      } catch (error) {
        throw tusError(400, (error as Error).message);
      }
      if (canonical === "") throw tusError(400, "path names the volume's root; name the file to write, such as raw/data.csv");
      if (upload.metadata?.overwrite !== "true") {
        const existing = await volume.storage.stat(canonical).catch(() => undefined);
        if (existing !== undefined) throw tusError(409, `${JSON.stringify(canonical)} already exists in volume ${volume.name}; send overwrite=true in Upload-Metadata to replace it`);
      }
      return { metadata: { ...upload.metadata, path: canonical } };
    },
    onUploadFinish: async (request, upload) => {
      const volume = volumeOf(request);
      const staged = join(stagingDir, upload.id);
      try {
        await volume.storage.write(upload.metadata?.path ?? "", createReadStream(staged), { overwrite: upload.metadata?.overwrite === "true" });
      } catch (error) {
        throw tusError(statusOf(error), error instanceof Error ? error.message : String(error));
      } finally {
        await rm(staged, { force: true });
        await rm(`${staged}.json`, { force: true });
      }
      return {};
    },
  });
}

/** Registers the tus routes in `scope`, a scope whose body parser leaves the request stream unread. */
export function registerVolumeUploads(scope: FastifyInstance, { operations, platform }: RouteContext): void {
  const usernames = new WeakMap<object, string>();
  const stagingDir = join(platform.config.home, "uploads");
  // srvx keeps the Node request as runtime.node.req; the caller was checked on it.
  const usernameOf = (request: Request) => {
    const node = (request as unknown as { runtime?: { node?: { req?: object } } }).runtime?.node?.req;
    return node === undefined ? undefined : usernames.get(node);
  };
  // The volume the route checked for this request, found again when tus calls back.
  const checkedVolumes = new WeakMap<object, Volume>();
  const volumeOfRequest = (request: Request) => {
    const node = (request as unknown as { runtime?: { node?: { req?: object } } }).runtime?.node?.req;
    return node === undefined ? undefined : checkedVolumes.get(node);
  };
  const tus = tusServer(volumeOfRequest, stagingDir, usernameOf);
  const sweep = setInterval(() => {
    tus.cleanUpExpiredUploads().catch((error: unknown) => platform.logger.warn({ err: error }, "could not sweep expired uploads"));
  }, SWEEP_INTERVAL_MS);
  sweep.unref();
  scope.addHook("onClose", (_instance, done) => {
    clearInterval(sweep);
    done();
  });

  const api = scope.withTypeProvider<ZodTypeProvider>();
  const params = z.strictObject({ volume: z.string().min(1).max(100) });
  const uploadParams = z.strictObject({ volume: z.string().min(1).max(100), id: z.string().min(1).max(100) });
  const routes = [
    { method: "POST" as const, url: "/api/volumes/:volume/uploads", params, summary: "Start a resumable (tus 1.0.0) upload: Upload-Length, Upload-Metadata path (base64) and optional overwrite" },
    { method: "HEAD" as const, url: "/api/volumes/:volume/uploads/:id", params: uploadParams, summary: "The offset a tus upload has reached" },
    { method: "PATCH" as const, url: "/api/volumes/:volume/uploads/:id", params: uploadParams, summary: "Send bytes of a tus upload from Upload-Offset (application/offset+octet-stream)" },
    { method: "DELETE" as const, url: "/api/volumes/:volume/uploads/:id", params: uploadParams, summary: "End a tus upload and drop its staged bytes" },
  ];
  for (const route of routes) {
    api.route({
      method: route.method,
      url: route.url,
      schema: { tags: ["storage"], summary: route.summary, security: authenticated, params: route.params, response: { ...authErrors } },
      handler: async (request, reply) => {
        const principal = principalOf(request);
        const { volume } = request.params as { volume: string; id?: string };
        const id = (request.params as { id?: string }).id;
        const checked = volumeFor(operations, principal, volume, "write");
        if (id !== undefined && !(ID_PATTERN.test(id) && id.startsWith(ownerDigest(volume, principal.username))))
          throw new StorageError("not_found", `no upload ${JSON.stringify(id)} of yours in volume ${volume}`);
        usernames.set(request.raw, principal.username);
        checkedVolumes.set(request.raw, checked);
        void reply.hijack();
        await tus.handle(request.raw, reply.raw);
      },
    });
  }
}
