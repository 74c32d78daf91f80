/**
 * The management API (TorchServe's port 8081): register (by url= into the model store), scale,
 * describe (with workers and their pids), list with pagination, set-default, unregister, and the
 * /token call that renews a key. Registering and unregistering need enable_model_api=true.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ModelManager, ModelVersion, StatusAnswer } from "../models/index.js";
import { badRequest, methodNotAllowed, ServingError } from "../errors.js";
import { createHttpApp, sendError, type HttpAppOptions } from "./http-app.js";
import type { TokenKeys } from "./token-keys.js";

/** What the management listener needs. */
export interface ManagementApiOptions {
  enableModelApi: boolean;
  keys: TokenKeys | undefined;
}

type Query = Record<string, string | undefined>;

/** Builds the management listener's app. */
export function createManagementApi(models: ModelManager, http: HttpAppOptions, options: ManagementApiOptions): FastifyInstance {
  // /token is checked against the API key inside its route, not the management key.
  const app = createHttpApp({ ...http, publicPaths: ["/token"] });
  const json = (reply: FastifyReply, status: number, body: unknown): FastifyReply => reply.code(status).type("application/json").send(JSON.stringify(body, null, 2));
  const statusReply = (reply: FastifyReply, answer: StatusAnswer): FastifyReply => json(reply, answer.status, { status: answer.message });

  app.get("/models", async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    let limit = intParam(request.query, "limit", 100);
    if (limit > 100 || limit < 0) limit = 100;
    const start = Math.max(0, intParam(request.query, "next_page_token", 0));
    const all = models.defaults();
    const page = all.slice(start, start + limit);
    const body: { nextPageToken?: string; models: Array<{ modelName: string; modelUrl: string }> } = { models: page.map((m) => ({ modelName: m.name, modelUrl: m.url })) };
    if (start + limit < all.length) body.nextPageToken = String(start + limit);
    return json(reply, 200, body.nextPageToken ? { nextPageToken: body.nextPageToken, models: body.models } : body);
  });

  app.post("/models", async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    if (!options.enableModelApi) throw methodNotAllowed();
    const params = registerParams(request);
    return statusReply(reply, await models.register(params));
  });

  app.get("/models/:model", async (request: FastifyRequest<{ Params: { model: string } }>, reply) => json(reply, 200, [describe(models, models.get(request.params.model))]));
  app.get("/models/:model/:version", async (request: FastifyRequest<{ Params: { model: string; version: string } }>, reply) => {
    const { model, version } = request.params;
    const entries = version === "all" ? models.versionsOf(model) : [models.get(model, version)];
    return json(reply, 200, entries.map((e) => describe(models, e)));
  });

  const scale = async (request: FastifyRequest<{ Params: { model: string; version?: string }; Querystring: Query }>, reply: FastifyReply) => {
    const min = intParam(request.query, "min_worker", 1);
    const max = intParam(request.query, "max_worker", min);
    const version = request.params.version ?? request.query["model_version"];
    return statusReply(reply, await models.scale(request.params.model, version, min, max, request.query["synchronous"]?.toLowerCase() === "true"));
  };
  app.put("/models/:model", scale);
  app.put("/models/:model/:version", scale);
  app.put("/models/:model/:version/set-default", async (request: FastifyRequest<{ Params: { model: string; version: string } }>, reply) =>
    json(reply, 200, { status: models.setDefault(request.params.model, request.params.version) }),
  );

  const unregister = async (request: FastifyRequest<{ Params: { model: string; version?: string } }>, reply: FastifyReply) => {
    if (!options.enableModelApi) throw methodNotAllowed();
    models.unregister(request.params.model, request.params.version);
    return json(reply, 200, { status: `Model "${request.params.model}" unregistered` });
  };
  app.delete("/models/:model", unregister);
  app.delete("/models/:model/:version", unregister);

  app.get("/token", async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const keys = options.keys;
    if (!keys) return sendError(reply, new ServingError(404, "ResourceNotFoundException", "Token authorization is disabled."));
    keys.check(request.headers.authorization, "API");
    const type = request.query["type"];
    if (type !== "management" && type !== "inference") throw badRequest("type must be management or inference");
    keys.renew(type);
    return json(reply, 200, { status: `The ${type} key was renewed; read it from key_file.json.` });
  });

  return app;
}

function intParam(query: Query, key: string, fallback: number): number {
  const value = query[key];
  if (value === undefined || value === "") return fallback;
  if (!/^-?\d+$/.test(value)) throw badRequest(`Parameter ${key} must be a whole number, not ${JSON.stringify(value)}.`);
  return Number(value);
}

function registerParams(request: FastifyRequest<{ Querystring: Query }>) {
  let source: Record<string, unknown> = request.query;
  const contentType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (contentType === "application/json") {
    try {
      const parsed: unknown = JSON.parse((request.body as Buffer | undefined)?.toString("utf8") ?? "{}");
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("expected an object");
      source = parsed as Record<string, unknown>;
    } catch (error) {
      throw badRequest(`The register body is not a JSON object: ${(error as Error).message}`);
    }
  }
  const text = (key: string): string | undefined => {
    const value = source[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw badRequest(`Parameter ${key} must be a string, number or boolean.`);
  };
  const int = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined || value === "") return undefined;
    if (!/^-?\d+$/.test(value)) throw badRequest(`Parameter ${key} must be a whole number, not ${JSON.stringify(value)}.`);
    return Number(value);
  };
  const batchSize = int("batch_size");
  const maxBatchDelay = int("max_batch_delay");
  const responseTimeout = int("response_timeout");
  const startupTimeout = int("startup_timeout");
  return {
    url: text("url"),
    modelName: text("model_name"),
    handler: text("handler"),
    runtime: text("runtime"),
    initialWorkers: int("initial_workers"),
    batchSize: batchSize !== undefined && batchSize > 0 ? batchSize : undefined,
    maxBatchDelayMs: maxBatchDelay !== undefined && maxBatchDelay >= 0 ? maxBatchDelay : undefined,
    responseTimeoutS: responseTimeout !== undefined && responseTimeout > 0 ? responseTimeout : undefined,
    startupTimeoutS: startupTimeout !== undefined && startupTimeout > 0 ? startupTimeout : undefined,
    synchronous: (text("synchronous") ?? "true").toLowerCase() === "true",
  };
}

function describe(models: ModelManager, entry: ModelVersion) {
  const { settings } = entry;
  return {
    modelName: entry.name,
    modelVersion: entry.version,
    modelUrl: entry.url,
    runtime: entry.archive.runtime,
    minWorkers: settings.minWorkers,
    maxWorkers: settings.maxWorkers,
    batchSize: settings.batchSize,
    maxBatchDelay: settings.maxBatchDelayMs,
    responseTimeout: settings.responseTimeoutS,
    startupTimeout: settings.startupTimeoutS,
    loadedAtStartup: entry.loadedAtStartup,
    deviceType: settings.deviceType === "" ? "cpu" : settings.deviceType,
    deviceIds: settings.deviceIds,
    workers: models.workersOf(entry),
    jobQueueStatus: { remainingCapacity: entry.pool.queue.remainingCapacity, pendingRequests: entry.pool.queue.size },
  };
}
