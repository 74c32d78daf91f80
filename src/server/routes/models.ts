/**
 * The model registry: list and show models with their versions and lineage (team readers), register
 * a version from a path on the server's machine and move aliases (team editors). Another team's
 * model answers 404 exactly like one that does not exist.
 */
import { z } from "zod";
import {
  listModels,
  ModelDetailSchema,
  modelDetail,
  ModelSummarySchema,
  modelTeam,
  modelVersion,
  modelVersionArchive,
  ModelVersionViewSchema,
  registerModelVersion,
  setModelAlias,
} from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { notFound } from "../errors.js";
import { accountName, authenticated, authErrors, errorSchema, id, mediaAnswer, runId, type ApiServer } from "../schemas.js";

const modelName = z.string().min(1).max(63);
const modelParams = z.strictObject({ name: modelName });

export function modelRoutes(app: ApiServer, { operations, access }: RouteContext): void {
  app.get(
    "/api/models",
    {
      schema: {
        tags: ["models"],
        summary: "Registered models of the caller's teams (admins: all), with their latest version and aliases; team=NAME for one team",
        security: authenticated,
        querystring: z.strictObject({ team: accountName.optional() }),
        response: { 200: z.object({ models: z.array(ModelSummarySchema) }), ...authErrors },
      },
    },
    async (request) => ({ models: await listModels(operations, principalOf(request), request.query.team) }),
  );

  app.get(
    "/api/models/:name",
    { schema: { tags: ["models"], summary: "A model with every version, its lineage and aliases", security: authenticated, params: modelParams, response: { 200: ModelDetailSchema, ...authErrors } } },
    async (request) => modelDetail(operations, principalOf(request), request.params.name),
  );

  app.get(
    "/api/models/:name/versions/:version",
    {
      schema: {
        tags: ["models"],
        summary: "One version of a model, by number or alias (e.g. production)",
        security: authenticated,
        params: z.strictObject({ name: modelName, version: z.string().min(1).max(63) }),
        response: { 200: ModelVersionViewSchema, ...authErrors },
      },
    },
    async (request) => modelVersion(operations, principalOf(request), request.params.name, request.params.version),
  );

  app.get(
    "/api/models/:name/versions/:version/archive",
    {
      schema: {
        tags: ["models"],
        summary:
          "One version's files as a single archive to put in a model store (a .mar as registered; a model folder zipped like a .mar), by number or alias; the header x-capstan-model-version names the version an alias resolved to",
        security: authenticated,
        params: z.strictObject({ name: modelName, version: z.string().min(1).max(63) }),
        response: { 200: mediaAnswer("application/octet-stream", "The archive (a zip laid out as a .mar)"), ...authErrors },
      },
    },
    async (request, reply) => {
      const { version, stream } = await modelVersionArchive(operations, principalOf(request), request.params.name, request.params.version);
      void reply
        .header("content-type", "application/octet-stream")
        .header("content-disposition", `attachment; filename="${version.name}-v${version.version}.mar"`)
        .header("x-capstan-model-version", String(version.version));
      // The media answer is typed as its text; Fastify sends a stream as it is.
      return reply.send(stream as unknown as string);
    },
  );

  app.post(
    "/api/models/:name/versions",
    {
      schema: {
        tags: ["models"],
        summary:
          "Register a new version from a .mar file or model folder on the server's machine (team editors): the files are checked, copied into the home and hashed; run and task record the lineage (the run's params, the task's numeric outputs). The model's team is team, else the run's pipeline team, else default",
        security: authenticated,
        params: modelParams,
        body: z.strictObject({ path: z.string().min(1).max(4096), team: accountName.optional(), run: runId.optional(), task: id.optional() }),
        response: { 201: ModelVersionViewSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { path, run, task } = request.body;
      let team = request.body.team;
      if (run !== undefined) {
        const runTeam = (await access.run(principal, run, "read")).team;
        team ??= runTeam;
      }
      team ??= "default";
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "editor", "register model versions");
      const view = await registerModelVersion(operations, { name: request.params.name, path, team, runId: run, taskId: task, createdBy: principal.username });
      void reply.status(201);
      return view;
    },
  );

  app.put(
    "/api/models/:name/aliases/:alias",
    {
      schema: {
        tags: ["models"],
        summary: "Point an alias (staging, production, …) at a version (team editors)",
        security: authenticated,
        params: z.strictObject({ name: modelName, alias: z.string().min(1).max(63) }),
        body: z.strictObject({ version: z.number().int().min(1) }),
        response: { 200: ModelDetailSchema, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const team = await modelTeam(operations, principal, request.params.name);
      principal.require(team, "editor", "move model aliases");
      return setModelAlias(operations, principal, request.params.name, request.body.version, request.params.alias);
    },
  );
}
