/**
 * Pipelines from git (pipelines.git): the sync's state for signed-in users, a sync on demand for
 * admins, and the push webhook for the repository's host. The webhook needs no session; it is
 * accepted only with the shared secret (GitHub/Gitea's X-Hub-Signature-256 HMAC of the body, or
 * GitLab's X-Gitlab-Token) and answers before the pull finishes, as hosts expect.
 */
import { z } from "zod";
import { webhookAuthentic, type PipelineGitStatus } from "../../git-sync/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { HttpError } from "../errors.js";
import { authenticated, authErrors, errorSchema, type ApiServer } from "../schemas.js";

/** Largest webhook body read (GitHub's push payloads are capped at 25 MB; the body is only hashed). */
const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

const commitSchema = z.object({ sha: z.string(), subject: z.string(), author: z.string(), committed_at: z.string() });
const statusSchema = z.object({
  url: z.string().describe("The repository (any password in the URL masked)"),
  branch: z.string(),
  path: z.string().describe("The repository's folder that holds the pipeline files"),
  commit: commitSchema.nullable().describe("The commit loaded now"),
  last_sync_at: z.string().nullable(),
  last_error: z.string().nullable().describe("Why the last pull failed; null after a good one (the previous commit stays loaded)"),
});

function statusView(status: PipelineGitStatus): z.infer<typeof statusSchema> {
  const { commit } = status;
  return {
    url: status.url,
    branch: status.branch,
    path: status.path,
    commit: commit === undefined ? null : { sha: commit.sha, subject: commit.subject, author: commit.author, committed_at: new Date(commit.committedAt).toISOString() },
    last_sync_at: status.lastSyncAt === undefined ? null : new Date(status.lastSyncAt).toISOString(),
    last_error: status.lastError ?? null,
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function pipelineGitRoutes(app: ApiServer, { platform }: RouteContext): void {
  const notConfigured = (): HttpError => new HttpError(404, "not_found", "pipelines.git is not configured: pipelines come from folders only");

  app.get(
    "/api/pipelines/git",
    { schema: { tags: ["pipelines"], summary: "The git branch pipelines are loaded from, its commit and the last pull's error", security: authenticated, response: { 200: statusSchema, ...authErrors } } },
    (request) => {
      principalOf(request);
      const sync = platform.pipelineGit;
      if (sync === undefined) throw notConfigured();
      return statusView(sync.status());
    },
  );

  app.post(
    "/api/pipelines/git/sync",
    { schema: { tags: ["pipelines"], summary: "Pulls the branch now (admins) and answers once the pull and the load are done", security: authenticated, response: { 200: statusSchema, ...authErrors } } },
    async (request) => {
      principalOf(request).requireAdmin("pull the pipelines' repository");
      const sync = platform.pipelineGit;
      if (sync === undefined) throw notConfigured();
      return statusView(await sync.sync("api"));
    },
  );

  // The body is hashed as received, so this route reads it as bytes.
  app.register((scope, _options, registered) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));
    scope.post(
      "/api/pipelines/git/webhook",
      {
        config: { public: true },
        schema: {
          tags: ["pipelines"],
          summary: "Push webhook: pulls the branch soon (X-Hub-Signature-256 or X-Gitlab-Token with the shared secret)",
          security: [],
          response: { 202: z.object({ accepted: z.literal(true) }), 401: errorSchema, 404: errorSchema },
        },
      },
      async (request, reply) => {
        const sync = platform.pipelineGit;
        if (sync === undefined) throw notConfigured();
        const secret = platform.config.pipelinesGit?.webhookSecret;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const signature = header(request.headers["x-hub-signature-256"]);
        const token = header(request.headers["x-gitlab-token"]);
        if (secret === undefined || !webhookAuthentic(secret, body, { signature, token })) {
          throw new HttpError(401, "unauthenticated", secret === undefined ? "the webhook has no shared secret configured (set the variable named by pipelines.git.webhook_secret_env)" : "the webhook's signature or token does not match the shared secret");
        }
        sync.sync("webhook").catch((error: unknown) => platform.logger.error({ err: error }, "pipelines from git: the webhook's pull failed"));
        return reply.code(202).send({ accepted: true as const });
      },
    );
    registered();
  });
}
