/** The HTTP server: Fastify with one route module per resource and an OpenAPI document. */
import Fastify, { type FastifyInstance } from "fastify";
import swagger from "@fastify/swagger";
import type { ServerContext } from "./context.js";
import { errorHandler } from "./errors.js";
import { healthRoutes } from "./routes/health.js";
import { pipelineRoutes } from "./routes/pipelines.js";
import { poolRoutes } from "./routes/pools.js";
import { runRoutes } from "./routes/runs.js";

export async function buildServer(ctx: ServerContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, ajv: { customOptions: { removeAdditional: false, coerceTypes: "array" } } });
  await app.register(swagger, {
    openapi: { info: { title: "Capstan API", version: "0.1.0", description: "Pipelines, runs, tasks, logs and pools." } },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: "not_found", message: `no route ${request.method} ${request.url.split("?")[0] ?? ""}` } });
  });
  for (const routes of [healthRoutes, pipelineRoutes, runRoutes, poolRoutes]) routes(app, ctx);
  app.get("/api/openapi.json", { schema: { hide: true } }, () => app.swagger());
  return app;
}
