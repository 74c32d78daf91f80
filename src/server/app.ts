/**
 * The HTTP server: Fastify with one route module per resource, authentication on every API route
 * but health and sign-in, an OpenAPI document at /api/openapi.json, and the web UI at /.
 */
import { join } from "node:path";
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type HTTPMethods } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { AuthService } from "../auth/index.js";
import { platformContext } from "../operations/index.js";
import { INSTALL_ROOT } from "../config/index.js";
import { Access } from "./access.js";
import { registerAuthHook } from "./auth-hook.js";
import type { RouteContext, ServerContext, ServerOptions } from "./context.js";
import { errorHandler } from "./errors.js";
import { EventHub } from "./event-hub.js";
import { authRoutes } from "./routes/auth.js";
import { eventRoutes } from "./routes/events.js";
import { healthRoutes } from "./routes/health.js";
import { logRoutes } from "./routes/logs.js";
import { metricsRoutes } from "./routes/metrics.js";
import { modelRoutes } from "./routes/models.js";
import { deploymentRoutes } from "./routes/deployments.js";
import { pipelineRoutes } from "./routes/pipelines.js";
import { poolRoutes } from "./routes/pools.js";
import { runRoutes } from "./routes/runs.js";
import { sandboxRoutes } from "./routes/sandboxes.js";
import { secretRoutes } from "./routes/secrets.js";
import { connectionRoutes } from "./routes/connections.js";
import { taskRoutes } from "./routes/tasks.js";
import { teamRoutes } from "./routes/teams.js";
import { tokenRoutes } from "./routes/tokens.js";
import { userRoutes } from "./routes/users.js";
import { volumeRoutes } from "./routes/volumes.js";
import { shareRoutes } from "./routes/shares.js";
import { publicShareRoutes } from "./routes/public-shares.js";
import { registerNulGuard } from "./nul-guard.js";
import { SandboxHosts } from "./sandbox-hosts.js";
import { transformComponents } from "./openapi-components.js";
import { isApiRequest } from "./request-path.js";
import { notBuiltPage, registerWebUi } from "./static-web.js";

/** The web UI's build output in this installation. */
export const DEFAULT_WEB_ROOT = join(INSTALL_ROOT, "web", "dist");

/** A route as registered: its method, URL pattern and whether it is reachable without a credential. */
export interface RouteInfo {
  method: string;
  url: string;
  public: boolean;
}

const registeredRoutes = new WeakMap<FastifyInstance, RouteInfo[]>();

/** Every route of a server built by buildServer (HEAD routes included), in registration order. */
export function routesOf(app: FastifyInstance): readonly RouteInfo[] {
  return registeredRoutes.get(app) ?? [];
}

const ROUTES = [healthRoutes, authRoutes, tokenRoutes, userRoutes, teamRoutes, pipelineRoutes, runRoutes, taskRoutes, logRoutes, eventRoutes, poolRoutes, secretRoutes, connectionRoutes, modelRoutes, deploymentRoutes, sandboxRoutes, volumeRoutes, shareRoutes, publicShareRoutes, metricsRoutes];

/** Builds the server (not yet listening). */
export async function buildServer(context: ServerContext, options: ServerOptions = {}): Promise<FastifyInstance> {
  const { platform } = context;
  const auth = context.auth ?? new AuthService(platform.store, { clock: platform.clock });
  const access = new Access(platform);
  const sandboxHosts = new SandboxHosts(platform.sandboxes, auth);
  const ctx: RouteContext = {
    platform,
    operations: platformContext(platform),
    auth,
    access,
    hub: new EventHub(platform, access),
    streams: new Set(),
    redact: (text) => platform.secrets.redact(text),
    sandboxHosts,
  };

  // Typed as Fastify's base logger so route modules take the plain Fastify instance type.
  const httpLogger: FastifyBaseLogger = platform.logger.child({ component: "http" });
  const app = Fastify({
    loggerInstance: httpLogger,
    // Requests are not logged one by one; errors are (see errors.ts).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Longer than any id the schemas accept, so an over-long id gets the schema's message.
    routerOptions: { maxParamLength: 320 },
    // Sandbox origins are served beside the API on the same port (sandbox-hosts.ts).
    serverFactory: sandboxHosts.serverFactory,
    trustProxy: typeof options.trustProxy === "boolean" ? options.trustProxy : options.trustProxy && options.trustProxy.length > 0 ? [...options.trustProxy] : false,
  });
  // Every route's schemas are zod (schemas.ts): they check requests, check and write answers, and make the OpenAPI document.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Only JSON bodies: a cross-site HTML form can send text/plain or form encodings, never application/json.
  app.removeContentTypeParser("text/plain");
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Capstan API",
        version: "0.1.0",
        description: "Pipelines, runs, tasks, logs, output notebooks, pools, users, teams and API tokens. Authenticate with `Authorization: Bearer <token>` (create one with `capstan login` or under Account → API tokens).",
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", description: "An API token (capstan_…)" },
          sessionCookie: { type: "apiKey", in: "cookie", name: "capstan_session", description: "The browser session (mutating requests also send X-CSRF-Token)" },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: transformComponents,
  });
  const routes: RouteInfo[] = [];
  registeredRoutes.set(app, routes);
  app.addHook("onRoute", (route) => {
    const methods: HTTPMethods[] = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, public: route.config?.public === true });
  });
  app.setErrorHandler(errorHandler);
  registerAuthHook(app, ctx);
  registerNulGuard(app);
  app.addHook("onSend", async (request, reply) => {
    if (isApiRequest(request)) {
      if (!reply.hasHeader("cache-control")) void reply.header("cache-control", "no-store");
      void reply.header("x-content-type-options", "nosniff");
    }
  });

  const sendPage = await registerWebUi(app, options.webRoot === undefined ? DEFAULT_WEB_ROOT : options.webRoot);
  app.setNotFoundHandler((request, reply) => {
    if ((request.method === "GET" || request.method === "HEAD") && !isApiRequest(request)) {
      return sendPage ? sendPage(reply) : notBuiltPage(reply);
    }
    const path = request.url.split(/[?#]/)[0] ?? "";
    return reply.status(404).send({ error: { code: "not_found", message: `no route ${request.method} ${path}` } });
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  for (const routes of ROUTES) routes(api, ctx);
  app.get("/api/openapi.json", { schema: { hide: true } }, () => app.swagger());
  // Live streams never end on their own: end them first, or closing would wait for every browser tab.
  app.addHook("preClose", (done) => {
    for (const stream of [...ctx.streams]) stream.close();
    done();
  });
  app.addHook("onClose", () => {
    ctx.hub.close();
  });
  return app;
}
