/**
 * Share links, for signed-in users: make one for a file or folder of a volume (team editors), list
 * one's own (admins: everyone's with all=true), revoke one (its owner, an admin of its team, or a
 * platform admin; effective on the next request). The links themselves are served by
 * public-shares.ts without a session.
 */
import { z } from "zod";
import { createShare, CreateShareRequestSchema, listShares, revokeShare, ShareViewSchema } from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors, errorSchema, noContent, queryBoolean, type ApiServer } from "../schemas.js";

const tags = ["shares"];

export function shareRoutes(app: ApiServer, { operations, platform }: RouteContext): void {
  app.post(
    "/api/shares",
    {
      schema: {
        tags,
        summary: "Make a share link of a file or folder (editors of the volume's team); expiresIn defaults to 7d; a password, when given, is needed on every download path",
        security: authenticated,
        body: CreateShareRequestSchema,
        response: { 201: z.object({ share: ShareViewSchema }), ...authErrors, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const share = await createShare(operations, principalOf(request), request.body, `${request.protocol}://${request.host}`, platform.clock.now());
      void reply.status(201);
      return { share };
    },
  );

  app.get(
    "/api/shares",
    {
      schema: {
        tags,
        summary: "The caller's share links with their download counts, newest first (admins: all=true lists everyone's)",
        security: authenticated,
        querystring: z.strictObject({ all: queryBoolean.optional() }),
        response: { 200: z.object({ shares: z.array(ShareViewSchema) }), ...authErrors },
      },
    },
    async (request) => ({ shares: await listShares(operations, principalOf(request), request.query.all ?? false, `${request.protocol}://${request.host}`) }),
  );

  app.delete(
    "/api/shares/:id",
    {
      schema: {
        tags,
        summary: "Revoke a share link (its owner or an admin); it stops working on the next request",
        security: authenticated,
        params: z.strictObject({ id: z.string().min(1).max(100) }),
        response: { ...noContent, ...authErrors },
      },
    },
    async (request, reply) => {
      await revokeShare(operations, principalOf(request), request.params.id, platform.clock.now());
      void reply.status(204);
    },
  );
}
