/**
 * Sandboxes: list (mine and my teams'), detail, create, start, stop, delete with confirmation, and
 * open (a one-time URL on the sandbox's own origin), and how to reach its sshd (the WebSocket tunnel
 * itself is sandbox-ssh.ts). The sandbox service decides who may: another
 * team's sandbox is not found, only the owner starts and opens one, the owner or an admin stops and
 * deletes it, a team's viewers see but do not create.
 */
import { z } from "zod";
import {
  CreateSandboxRequestSchema,
  createSandbox,
  deleteSandbox,
  listSandboxes,
  openSandbox,
  sandboxDetail,
  sandboxProfiles,
  SandboxProfileViewSchema,
  SandboxViewSchema,
  startSandbox,
  stopSandbox,
} from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { HttpError, notFound } from "../errors.js";
import { accountName, authenticated, authErrors, errorSchema, noContent, queryBoolean, type ApiServer } from "../schemas.js";

const sandboxParams = z.strictObject({ id: z.string().regex(/^s[a-z2-7]{16}$/, { error: "a sandbox id is 's' and 16 letters a–z or digits 2–7" }).describe("The sandbox's id") });
const stateErrors = { ...authErrors, 409: errorSchema } as const;
const sandboxTag = ["sandboxes"];

const SshDescriptionSchema = z
  .object({
    user: z.string().describe("The user the sandbox's sshd lets in"),
    host_key: z.string().nullable().describe("The sshd's public host key when Capstan knows it (local sandboxes), else null"),
    websocket: z.string().describe("The path that, upgraded to a WebSocket with the API token, carries the SSH connection"),
  })
  .describe("How to reach a sandbox's sshd through Capstan");

export function sandboxRoutes(app: ApiServer, { platform, sandboxHosts, streams }: RouteContext): void {
  const service = platform.sandboxes;
  // Open SSH tunnels end with the server.
  streams.add(sandboxHosts.ssh);

  app.get(
    "/api/sandboxes",
    {
      schema: {
        tags: sandboxTag,
        summary: "Sandboxes of the caller's teams (admins: all); team=NAME for one team, mine=true for the caller's own",
        security: authenticated,
        querystring: z.strictObject({ team: accountName.optional(), mine: queryBoolean.optional() }),
        response: { 200: z.object({ sandboxes: z.array(SandboxViewSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team, mine } = request.query;
      if (team !== undefined && !principal.canRead(team)) throw notFound("team", team);
      return { sandboxes: await listSandboxes(service, principal, { team, mine }) };
    },
  );

  app.get(
    "/api/sandboxes/profiles",
    { schema: { tags: sandboxTag, summary: "The sandbox profiles admins defined in capstan.yaml", security: authenticated, response: { 200: z.object({ profiles: z.array(SandboxProfileViewSchema) }), ...authErrors } } },
    (request) => {
      principalOf(request);
      return { profiles: sandboxProfiles(service) };
    },
  );

  app.post(
    "/api/sandboxes",
    {
      schema: {
        tags: sandboxTag,
        summary: "Create a stopped sandbox for the caller in a team where they are an editor",
        security: authenticated,
        body: CreateSandboxRequestSchema,
        response: { 201: SandboxViewSchema, ...stateErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { team } = request.body;
      if (team !== undefined && !principal.canRead(team)) throw notFound("team", team);
      const view = await createSandbox(service, principal, request.body);
      void reply.status(201);
      return view;
    },
  );

  app.get(
    "/api/sandboxes/:id",
    { schema: { tags: sandboxTag, summary: "One sandbox", security: authenticated, params: sandboxParams, response: { 200: SandboxViewSchema, ...authErrors } } },
    async (request) => sandboxDetail(service, principalOf(request), request.params.id),
  );

  app.post(
    "/api/sandboxes/:id/start",
    {
      schema: {
        tags: sandboxTag,
        summary: "Start a stopped or failed sandbox (its owner); wait=false answers once it is starting, else once it runs or has failed",
        security: authenticated,
        params: sandboxParams,
        querystring: z.strictObject({ wait: queryBoolean.optional() }),
        response: { 200: SandboxViewSchema, ...stateErrors },
      },
    },
    async (request) => startSandbox(service, principalOf(request), request.params.id, request.query.wait ?? true),
  );

  app.post(
    "/api/sandboxes/:id/stop",
    {
      schema: { tags: sandboxTag, summary: "Stop a sandbox, its kernels and terminals (its owner or an admin); the home is kept", security: authenticated, params: sandboxParams, response: { 200: SandboxViewSchema, ...stateErrors } },
    },
    async (request) => stopSandbox(service, principalOf(request), request.params.id),
  );

  app.delete(
    "/api/sandboxes/:id",
    {
      schema: {
        tags: sandboxTag,
        summary: "Delete a stopped sandbox and its home for good (its owner or an admin); confirm must be the sandbox's name",
        security: authenticated,
        params: sandboxParams,
        body: z.strictObject({ confirm: z.string().max(200).optional() }).optional(),
        response: { ...noContent, ...stateErrors },
      },
    },
    async (request, reply) => {
      await deleteSandbox(service, principalOf(request), request.params.id, request.body?.confirm);
      void reply.status(204);
    },
  );

  app.get(
    "/api/sandboxes/:id/ssh",
    {
      schema: {
        tags: sandboxTag,
        summary:
          "SSH into one's own running sandbox: upgraded to a WebSocket with Authorization: Bearer <token>, it carries an SSH connection to the sandbox's sshd (capstan sandbox tunnel); a plain GET says which user and host key to expect. Anyone but the owner gets 404",
        security: authenticated,
        params: sandboxParams,
        response: { 200: SshDescriptionSchema, ...stateErrors },
      },
    },
    async (request) => {
      const endpoint = await service.sshEndpoint(principalOf(request), request.params.id);
      return { user: endpoint.user, host_key: endpoint.hostKey ?? null, websocket: `/api/sandboxes/${request.params.id}/ssh` };
    },
  );

  app.post(
    "/api/sandboxes/:id/open",
    {
      schema: {
        tags: sandboxTag,
        summary: "A one-time URL (valid 60 s) on the sandbox's own origin that signs its owner in there and opens JupyterLab",
        security: authenticated,
        params: sandboxParams,
        querystring: z.strictObject({ path: z.string().max(2000).optional().describe("Where JupyterLab opens (default /lab)") }),
        response: { 200: z.object({ url: z.string() }), ...stateErrors, 503: errorSchema },
      },
    },
    async (request) => {
      const proxy = sandboxHosts.proxy;
      if (!proxy) throw new HttpError(503, "unavailable", "this server does not serve sandbox origins (it is not listening yet)");
      return openSandbox(proxy, principalOf(request), request.params.id, request.query.path);
    },
  );
}
