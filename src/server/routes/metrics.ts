/**
 * GET /metrics: the platform's Prometheus metrics in the text exposition format, for platform admins
 * (the figures span every team). Also times every API request by its route pattern.
 */
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authErrors, authenticated, mediaAnswer, type ApiServer } from "../schemas.js";

export function metricsRoutes(app: ApiServer, { platform }: RouteContext): void {
  const { metrics } = platform;
  app.addHook("onResponse", async (request, reply) => {
    // Route patterns, not raw URLs, so ids never become label values; unmatched requests are one series.
    const route = request.is404 ? "unmatched" : request.routeOptions.url ?? "unmatched";
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get(
    "/metrics",
    {
      schema: {
        tags: ["metrics"],
        summary: "Prometheus metrics (text exposition format) of runs, task instances, queue and pools, attempts, hops, Kubernetes requests, warm kernels and HTTP requests; platform admins only",
        security: authenticated,
        response: { 200: mediaAnswer("text/plain", "The Prometheus text exposition format (version 0.0.4)"), ...authErrors },
      },
    },
    async (request, reply) => {
      principalOf(request).requireAdmin("read the platform's metrics (they cover every team)");
      const text = await metrics.text();
      return reply.type(metrics.contentType).send(text);
    },
  );
}
