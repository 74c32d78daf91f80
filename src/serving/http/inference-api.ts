/**
 * The inference API (TorchServe's port 8080): /ping, /predictions/{m}[/{v}], /explanations/…,
 * KServe v1 `/v1/models/{m}:predict` and the Open Inference Protocol v2 routes. A request becomes
 * a job on the model version's queue; the worker's answer (status, content type, headers, body, or
 * a stream of parts) goes back as it came.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ModelManager } from "../models/index.js";
import type { ServingMetrics } from "../metrics/index.js";
import type { InferenceJob, WorkerAnswer } from "../workers/index.js";
import { badRequest, ServingError } from "../errors.js";
import { requestInputs } from "./request-inputs.js";
import { createHttpApp, sendError, type HttpAppOptions } from "./http-app.js";

let jobCounter = 0;

/** Builds the inference listener's app. */
export function createInferenceApi(models: ModelManager, metrics: ServingMetrics, http: HttpAppOptions): FastifyInstance {
  const app = createHttpApp({ ...http, publicPaths: ["/ping", "/v2/health/ready", "/v2/health/live"] });

  app.get("/ping", async (_request, reply) => {
    const healthy = models.healthy();
    return reply.code(healthy ? 200 : 500).type("application/json").send(JSON.stringify({ status: healthy ? "Healthy" : "Unhealthy" }, null, 2));
  });
  app.get("/v2/health/ready", (_request, reply) => reply.send({ ready: models.healthy() }));
  app.get("/v2/health/live", (_request, reply) => reply.send({ live: true }));
  app.get("/v2", (_request, reply) => reply.send({ name: "capstan", version: "0.1.0", extensions: ["kserve"] }));

  const predict = (explain: boolean) => async (request: FastifyRequest<{ Params: { model: string; version?: string; "*"?: string } }>, reply: FastifyReply) => {
    const { model, version } = request.params;
    return infer(request, reply, model, version, { explain: explain ? "True" : "False", url_path: request.params["*"] ?? "" });
  };
  for (const [prefix, explain] of [["predictions", false], ["explanations", true]] as const) {
    app.post(`/${prefix}/:model`, predict(explain));
    app.put(`/${prefix}/:model`, predict(explain));
    app.post(`/${prefix}/:model/:version`, predict(explain));
    app.put(`/${prefix}/:model/:version`, predict(explain));
    app.post(`/${prefix}/:model/:version/*`, predict(explain));
  }
  app.post("/v1/models/:target", async (request: FastifyRequest<{ Params: { target: string } }>, reply) => {
    const [model, verb] = request.params.target.split(":");
    if (!model || (verb !== "predict" && verb !== "explain")) return sendError(reply, new ServingError(404, "ResourceNotFoundException", "Use /v1/models/{model}:predict or :explain."));
    return infer(request, reply, model, undefined, { explain: verb === "explain" ? "True" : "False" });
  });
  app.get("/v2/models/:model", (request: FastifyRequest<{ Params: { model: string } }>, reply) => {
    const entry = models.get(request.params.model);
    return reply.send({ name: entry.name, versions: models.versionsOf(entry.name).map((v) => v.version), platform: "capstan-python", inputs: [], outputs: [] });
  });
  app.get("/v2/models/:model/ready", (request: FastifyRequest<{ Params: { model: string } }>, reply) => {
    const entry = models.get(request.params.model);
    return reply.send({ name: entry.name, ready: entry.pool.readyCount > 0 });
  });
  for (const verb of ["infer", "explain"] as const) {
    app.post(`/v2/models/:model/${verb}`, async (request: FastifyRequest<{ Params: { model: string } }>, reply) =>
      infer(request, reply, request.params.model, undefined, { explain: verb === "explain" ? "True" : "False" }),
    );
  }

  async function infer(request: FastifyRequest, reply: FastifyReply, model: string, version: string | undefined, extraHeaders: Record<string, string>): Promise<FastifyReply> {
    const entry = models.get(model, version);
    metrics.requestReceived(model, version);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.headers)) {
      if (typeof value === "string") headers[key] = value;
      else if (Array.isArray(value)) headers[key] = value.join(", ");
    }
    Object.assign(headers, extraHeaders);
    const inputs = requestInputs(request.headers["content-type"], request.body as Buffer | undefined);
    if (inputs.length === 0) throw badRequest("the request has no input");
    const enqueuedAt = process.hrtime.bigint();
    let streaming = false;
    const answered = new Promise<void>((resolve) => {
      const job: InferenceJob = {
        id: `${process.pid}-${++jobCounter}`,
        inputs,
        headers,
        enqueuedAt,
        responder: {
          partial(answer) {
            if (!streaming) {
              streaming = true;
              void reply.hijack();
              reply.raw.writeHead(answer.status, answer.phrase || undefined, responseHeaders(answer));
            }
            reply.raw.write(answer.body);
          },
          done(answer) {
            const now = process.hrtime.bigint();
            metrics.requestAnswered(model, version, now - enqueuedAt, (job.scheduledAt ?? now) - enqueuedAt);
            if (streaming) reply.raw.end(answer.body);
            else void reply.code(answer.status).headers(responseHeaders(answer)).send(answer.body);
            resolve();
          },
          fail(error) {
            if (streaming) reply.raw.destroy(error);
            else void sendError(reply, error);
            resolve();
          },
        },
      };
      entry.pool.submit(job, version ? `"${model}" version ${version}` : `"${model}"`);
    });
    await answered;
    return reply;
  }

  return app;
}

function responseHeaders(answer: WorkerAnswer): Record<string, string> {
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.contentType) headers["content-type"] = answer.contentType;
  return headers;
}
