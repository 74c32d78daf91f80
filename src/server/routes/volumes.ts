/**
 * Team volumes (docs/storage.md): list the caller's volumes; browse, stat, download (Range) and
 * upload files; make folders, move, copy, delete, zip and search. operations/storage.ts decides who
 * may: another team's volume is 404, viewers read, editors write, a read-only volume refuses writes.
 * Uploads stream the raw request body (any content type) into the volume, or resume with tus
 * (volume-uploads.ts); the file appears under its name only once complete.
 */
import type { IncomingMessage } from "node:http";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  deleteEntry,
  EntryPageSchema,
  listEntries,
  listVolumes,
  makeFolder,
  moveEntry,
  readableStorage,
  searchEntries,
  statEntry,
  StorageEntrySchema,
  VolumeViewSchema,
  volumePath,
  writeFile,
  zipEntry,
} from "../../operations/index.js";
import { contentTypeOf, normalizePath } from "../../storage/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { contentDisposition, guardUserContent, sendVolumeFile } from "../file-answer.js";
import { previewFile, PreviewSchema } from "../volume-preview.js";
import { registerVolumeUploads } from "./volume-uploads.js";
import { authenticated, authErrors, errorSchema, mediaAnswer, queryBoolean, queryInt, type ApiServer } from "../schemas.js";

const tags = ["storage"];
const volumeParams = z.strictObject({ volume: z.string().min(1).max(100).describe("The volume's name") });
const pathField = z.string().max(8192).describe('A path from the volume\'s root, such as raw/2026/data.csv ("" or "/" is the root)');
const pathQuery = z.strictObject({ path: pathField.optional() });
const writeErrors = { ...authErrors, 409: errorSchema, 503: errorSchema } as const;
const moveBody = z.strictObject({ from: pathField, to: pathField, overwrite: z.boolean().optional().describe("Replace a file at to") });

export function volumeRoutes(app: ApiServer, ctx: RouteContext): void {
  const { operations } = ctx;
  app.get(
    "/api/volumes",
    { schema: { tags, summary: "The volumes of the caller's teams (admins: all), the caller's sandbox homes and the runs volume", security: authenticated, response: { 200: z.object({ volumes: z.array(VolumeViewSchema) }), ...authErrors } } },
    (request) => ({ volumes: listVolumes(operations, principalOf(request)) }),
  );

  app.get(
    "/api/volumes/:volume/entries",
    {
      schema: {
        tags,
        summary: "A page of a folder's entries in name order (UTF-8 bytes, folders as name/)",
        security: authenticated,
        params: volumeParams,
        querystring: z.strictObject({ path: pathField.optional(), cursor: z.string().max(4096).optional(), limit: queryInt(1, 1000).optional() }),
        response: { 200: EntryPageSchema, ...authErrors, 409: errorSchema, 503: errorSchema },
      },
    },
    async (request) => {
      const { path, cursor, limit } = request.query;
      return listEntries(operations, principalOf(request), request.params.volume, path, { ...(cursor === undefined ? {} : { cursor }), ...(limit === undefined ? {} : { limit }) });
    },
  );

  app.get(
    "/api/volumes/:volume/stat",
    { schema: { tags, summary: "One entry", security: authenticated, params: volumeParams, querystring: pathQuery, response: { 200: StorageEntrySchema, ...authErrors, 503: errorSchema } } },
    async (request) => statEntry(operations, principalOf(request), request.params.volume, request.query.path),
  );

  app.get(
    "/api/volumes/:volume/files",
    {
      schema: {
        tags,
        summary:
          "A file's bytes, whole or one Range (206; 416 past the end), under Content-Security-Policy: sandbox with nosniff; HTML, SVG, XML and JavaScript always as attachments, anything with download=true",
        security: authenticated,
        params: volumeParams,
        querystring: z.strictObject({ path: pathField.optional(), download: z.enum(["true", "false", "1", "0"]).optional() }),
        response: { 200: mediaAnswer("application/octet-stream", "The file"), 206: mediaAnswer("application/octet-stream", "The range asked"), ...authErrors, 409: errorSchema, 416: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const storage = readableStorage(operations, principalOf(request), request.params.volume);
      const download = request.query.download === "true" || request.query.download === "1";
      await sendVolumeFile(request, reply, storage, normalizePath(volumePath(request.query.path)), { download });
      return reply;
    },
  );

  // Uploads take the raw body as a stream, whatever its content type, in a scope of their own.
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    // The body stays unread here (request.raw is the stream); as a parsed value the guards would walk the stream object.
    scope.addContentTypeParser("*", (_request: unknown, _payload: IncomingMessage, parsed: (error: Error | null, body?: unknown) => void) => parsed(null));
    scope.withTypeProvider<ZodTypeProvider>().put(
      "/api/volumes/:volume/files",
      {
        schema: {
          tags,
          summary: "Upload the request body as a file (streamed; the file appears only once complete); 409 when it exists, unless overwrite=true",
          security: authenticated,
          params: volumeParams,
          querystring: z.strictObject({ path: pathField, overwrite: queryBoolean.optional() }),
          response: { 201: z.object({ entry: StorageEntrySchema }), ...writeErrors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const entry = await writeFile(operations, principal, request.params.volume, request.query.path, request.raw, request.query.overwrite ?? false);
        void reply.status(201);
        return { entry };
      },
    );
    registerVolumeUploads(scope, ctx);
    done();
  });

  app.post(
    "/api/volumes/:volume/folders",
    { schema: { tags, summary: "Make a folder and its parents", security: authenticated, params: volumeParams, body: z.strictObject({ path: pathField }), response: { 201: z.object({ entry: StorageEntrySchema }), ...writeErrors } } },
    async (request, reply) => {
      const entry = await makeFolder(operations, principalOf(request), request.params.volume, request.body.path);
      void reply.status(201);
      return { entry };
    },
  );

  for (const verb of ["move", "copy"] as const) {
    app.post(
      `/api/volumes/:volume/${verb}`,
      {
        schema: {
          tags,
          summary: verb === "move" ? "Move or rename a file or folder" : "Copy a file or folder",
          security: authenticated,
          params: volumeParams,
          body: moveBody,
          response: { 200: z.object({ entry: StorageEntrySchema }), ...writeErrors },
        },
      },
      async (request) => ({ entry: await moveEntry(operations, principalOf(request), request.params.volume, request.body, verb) }),
    );
  }

  app.delete(
    "/api/volumes/:volume/entries",
    {
      schema: {
        tags,
        summary: "Delete a file or an empty folder; recursive=true deletes a folder with everything in it",
        security: authenticated,
        params: volumeParams,
        querystring: z.strictObject({ path: pathField, recursive: queryBoolean.optional() }),
        response: { 204: z.undefined().describe("Deleted"), ...writeErrors },
      },
    },
    async (request, reply) => {
      await deleteEntry(operations, principalOf(request), request.params.volume, request.query.path, request.query.recursive ?? false);
      void reply.status(204);
    },
  );

  app.get(
    "/api/volumes/:volume/zip",
    {
      schema: {
        tags,
        summary: "A folder (or file) as a streaming zip, as an attachment <folder>.zip",
        security: authenticated,
        params: volumeParams,
        querystring: pathQuery,
        response: { 200: mediaAnswer("application/zip", "The zip"), ...authErrors, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const { stream, fileName } = await zipEntry(operations, principalOf(request), request.params.volume, request.query.path);
      guardUserContent(reply);
      void reply.header("content-type", "application/zip").header("content-disposition", contentDisposition("attachment", fileName));
      // The media answer is typed as its text; Fastify sends a stream as it is.
      return reply.send(stream as unknown as string);
    },
  );

  app.get(
    "/api/volumes/:volume/preview",
    {
      schema: {
        tags,
        summary: "A preview: text (first 256 KiB), CSV and Parquet (first 50 rows), a notebook rendered as on run pages (show it in a sandboxed iframe), image (load it from files), or none",
        security: authenticated,
        params: volumeParams,
        querystring: pathQuery,
        response: { 200: PreviewSchema, ...authErrors, 422: errorSchema, 503: errorSchema },
      },
    },
    async (request) => {
      const storage = readableStorage(operations, principalOf(request), request.params.volume);
      const entry = await storage.stat(volumePath(request.query.path));
      return previewFile(storage, entry, contentTypeOf(entry.name), await ctx.platform.secrets.mask());
    },
  );

  app.get(
    "/api/volumes/:volume/search",
    {
      schema: {
        tags,
        summary: "Entries under path (any depth) whose name contains q, ignoring case",
        security: authenticated,
        params: volumeParams,
        querystring: z.strictObject({ path: pathField.optional(), q: z.string().min(1).max(255), limit: queryInt(1, 1000).optional() }),
        response: { 200: z.object({ entries: z.array(StorageEntrySchema) }), ...authErrors, 503: errorSchema },
      },
    },
    async (request) => ({ entries: await searchEntries(operations, principalOf(request), request.params.volume, request.query.path, request.query.q, request.query.limit) }),
  );
}
