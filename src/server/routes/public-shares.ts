/**
 * Share links without a platform session (the web app's /s/:id page uses these): what a link
 * shares, unlocking a password-protected one (a cookie scoped to that link's path), and its folder
 * listing, file (Range) and zip. A password-protected link refuses every path but the first without
 * the unlock cookie or X-Capstan-Share-Password; expired and revoked links are refused at once; a
 * folder link's paths are relative to the folder and cannot leave it. Wrong passwords are limited
 * like sign-ins (auth's LoginLimiter: per link and per client address), so a link's password
 * cannot be guessed at scrypt's speed.
 */
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import {
  countShareDownload,
  EntryPageSchema,
  entryView,
  pathInShare,
  publicShare,
  PublicShareSchema,
  readShare,
  sharedPath,
  unlockShare,
  type ShareCredentials,
} from "../../operations/index.js";
import { LoginLimiter } from "../../auth/index.js";
import { CapstanError } from "../../errors/index.js";
import { zipFolder } from "../../storage/index.js";
import type { RouteContext } from "../context.js";
import { contentDisposition, guardUserContent, sendVolumeFile } from "../file-answer.js";
import { errorSchema, mediaAnswer, noContent, queryInt, type ApiServer } from "../schemas.js";

const tags = ["shares"];
const UNLOCK_COOKIE = "capstan_share";
const shareParams = z.strictObject({ id: z.string().min(1).max(100).describe("The link's id") });
const publicErrors = { 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 429: errorSchema, 503: errorSchema } as const;
const subPath = z.string().max(8192).describe("A path inside the shared folder");

function credentialsOf(request: FastifyRequest): ShareCredentials {
  const header = request.headers["x-capstan-share-password"];
  return { unlockCookie: request.cookies[UNLOCK_COOKIE], password: typeof header === "string" ? header : undefined };
}

function cookiePath(id: string): string {
  return `/api/public/shares/${id}`;
}

export function publicShareRoutes(app: ApiServer, { operations, platform }: RouteContext): void {
  const now = () => platform.clock.now();
  const guesses = new LoginLimiter({ now });

  /** Runs `work`; when the request gives a password, it takes a guess slot, kept only when the password was wrong. */
  async function limited<T>(request: FastifyRequest, id: string, password: string | undefined, work: () => Promise<T>, wrong: (result: T) => boolean = () => false): Promise<T> {
    if (password === undefined) return work();
    const attempt = guesses.begin(`share ${id}`, request.ip);
    try {
      const result = await work();
      if (wrong(result)) attempt.failed();
      else attempt.succeeded();
      return result;
    } catch (error) {
      if (error instanceof CapstanError && error.code === "share_password_wrong") attempt.failed();
      else attempt.succeeded();
      throw error;
    }
  }

  /** The readable share of a request, its password guesses limited. */
  const readOf = (request: FastifyRequest, id: string) => {
    const credentials = credentialsOf(request);
    return limited(request, id, credentials.password, () => readShare(operations, id, credentials, now()));
  };

  app.get(
    "/api/public/shares/:id",
    {
      config: { public: true },
      schema: { tags, summary: "What a share link shares, whether it needs a password, and whether this request has unlocked it", params: shareParams, response: { 200: PublicShareSchema, ...publicErrors } },
    },
    async (request) => {
      const credentials = credentialsOf(request);
      return limited(request, request.params.id, credentials.password, () => publicShare(operations, request.params.id, credentials, now()), (answer) => answer.passwordRequired && !answer.unlocked);
    },
  );

  app.post(
    "/api/public/shares/:id/unlock",
    {
      config: { public: true },
      schema: {
        tags,
        summary: "Give a share link's password: answers with a cookie (HttpOnly, SameSite=Strict, scoped to this link's path) that unlocks it for 12 hours",
        params: shareParams,
        body: z.strictObject({ password: z.string().max(256) }),
        response: { ...noContent, ...publicErrors },
      },
    },
    async (request, reply) => {
      const unlock = await limited(request, request.params.id, request.body.password, () => unlockShare(operations, request.params.id, request.body.password, now()));
      if (unlock !== undefined) {
        void reply.setCookie(UNLOCK_COOKIE, unlock.token, {
          path: cookiePath(request.params.id),
          httpOnly: true,
          sameSite: "strict",
          secure: request.protocol === "https",
          expires: new Date(unlock.expiresAt),
        });
      }
      void reply.status(204);
    },
  );

  app.get(
    "/api/public/shares/:id/entries",
    {
      config: { public: true },
      schema: {
        tags,
        summary: "A page of a shared folder's entries (paths relative to the shared folder)",
        params: shareParams,
        querystring: z.strictObject({ path: subPath.optional(), cursor: z.string().max(4096).optional(), limit: queryInt(1, 1000).optional() }),
        response: { 200: EntryPageSchema, ...publicErrors },
      },
    },
    async (request) => {
      const { share, storage } = await readOf(request, request.params.id);
      const folder = sharedPath(share, request.query.path);
      const { cursor, limit } = request.query;
      const page = await storage.list(folder, { ...(cursor === undefined ? {} : { cursor }), ...(limit === undefined ? {} : { limit }) });
      return {
        path: pathInShare(share, folder),
        entries: page.entries.map((entry) => ({ ...entryView(entry), path: pathInShare(share, entry.path) })),
        ...(page.next === undefined ? {} : { nextCursor: page.next }),
      };
    },
  );

  app.get(
    "/api/public/shares/:id/files",
    {
      config: { public: true },
      schema: {
        tags,
        summary: "A shared file's bytes (Range; the same headers as a volume's files); a download from the first byte is counted",
        params: shareParams,
        querystring: z.strictObject({ path: subPath.optional(), download: z.enum(["true", "false", "1", "0"]).optional() }),
        response: { 200: mediaAnswer("application/octet-stream", "The file"), 206: mediaAnswer("application/octet-stream", "The range asked"), ...publicErrors, 416: errorSchema },
      },
    },
    async (request, reply) => {
      const { share, storage } = await readOf(request, request.params.id);
      const download = request.query.download === "true" || request.query.download === "1";
      await sendVolumeFile(request, reply, storage, sharedPath(share, request.query.path), {
        download,
        onSend: (start) => (start === 0 ? countShareDownload(operations, share.id) : Promise.resolve()),
      });
      return reply;
    },
  );

  app.get(
    "/api/public/shares/:id/zip",
    {
      config: { public: true },
      schema: {
        tags,
        summary: "A shared folder (or a folder inside it, or the shared file) as a streaming zip; counted as a download",
        params: shareParams,
        querystring: z.strictObject({ path: subPath.optional() }),
        response: { 200: mediaAnswer("application/zip", "The zip"), ...publicErrors },
      },
    },
    async (request, reply) => {
      const { share, storage } = await readOf(request, request.params.id);
      const target = sharedPath(share, request.query.path);
      const entry = await storage.stat(target);
      const stream = await zipFolder(storage, entry.path);
      await countShareDownload(operations, share.id);
      guardUserContent(reply);
      void reply.header("content-type", "application/zip").header("content-disposition", contentDisposition("attachment", `${entry.path === "" ? share.volume : entry.name}.zip`));
      return reply.send(stream as unknown as string);
    },
  );
}
