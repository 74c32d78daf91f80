/** Team secrets (task env from secret references): editors see names and keys, team admins set and delete them; values are write-only and never returned. */
import { z } from "zod";
import { deleteSecret, listSecrets, setSecret } from "../../operations/index.js";
import { SecretSummarySchema } from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { notFound } from "../errors.js";
import { accountName, authenticated, authErrors, noContent, type ApiServer } from "../schemas.js";

const secretParams = z.strictObject({ team: accountName, name: z.string().min(1).max(63) });
const MAX_KEYS = 100;
const secretData = z
  .record(z.string(), z.string().max(65536))
  .refine((data) => Object.keys(data).length >= 1 && Object.keys(data).length <= MAX_KEYS, { message: `a secret holds 1 to ${MAX_KEYS} keys` })
  .meta({ minProperties: 1, maxProperties: MAX_KEYS });

export function secretRoutes(app: ApiServer, { operations }: RouteContext): void {
  app.get(
    "/api/secrets",
    {
      schema: {
        tags: ["secrets"],
        summary: "Names and keys of secrets, never values: of the teams where the caller is an editor or admin (admins: all); team=NAME for one team",
        security: authenticated,
        querystring: z.strictObject({ team: accountName.optional() }),
        response: { 200: z.object({ secrets: z.array(SecretSummarySchema) }), ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team } = request.query;
      if (team !== undefined) {
        if (!principal.canRead(team)) throw notFound("team", team);
        principal.require(team, "editor", "see the team's secrets");
      }
      return { secrets: await listSecrets(operations, principal, team) };
    },
  );

  app.put(
    "/api/secrets/:team/:name",
    {
      schema: {
        tags: ["secrets"],
        summary: "Create or replace a secret (team admins); the values are write-only",
        security: authenticated,
        params: secretParams,
        body: z.strictObject({ data: secretData }),
        response: { 200: SecretSummarySchema, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team, name } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "admin", "set secrets");
      return setSecret(operations, team, name, request.body.data);
    },
  );

  app.delete(
    "/api/secrets/:team/:name",
    { schema: { tags: ["secrets"], summary: "Delete a secret (team admins)", security: authenticated, params: secretParams, response: { ...noContent, ...authErrors } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const { team, name } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "admin", "delete secrets");
      await deleteSecret(operations, team, name);
      void reply.status(204);
    },
  );
}
