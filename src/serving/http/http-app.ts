/**
 * What the three listeners share: a Fastify app that takes any body as raw bytes, answers unknown
 * routes and every error with TorchServe's `{"code", "type", "message"}`, and checks the bearer key
 * of its API before any route runs.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { methodNotAllowed, notFoundResource, ServingError } from "../errors.js";
import type { KeyKind, TokenKeys } from "./token-keys.js";

/** How one listener is built. */
export interface HttpAppOptions {
  maxRequestSize: number;
  /** the key this API needs, or undefined when token auth is off */
  auth: { keys: TokenKeys; kind: KeyKind } | undefined;
  /** paths answered without a key */
  publicPaths?: readonly string[];
}

/** Sends a TorchServe-shaped error. */
export function sendError(reply: FastifyReply, error: ServingError): FastifyReply {
  return reply.code(error.status).type("application/json").send(JSON.stringify(error.toBody(), null, 2));
}

/** A Fastify app with raw bodies, TorchServe errors and the key check. */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: options.maxRequestSize, keepAliveTimeout: 120_000 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  const publicPaths = new Set(options.publicPaths ?? []);
  if (options.auth) {
    const { keys, kind } = options.auth;
    app.addHook("onRequest", (request, _reply, done) => {
      const path = request.url.split("?")[0] ?? "";
      try {
        if (!publicPaths.has(path)) keys.check(request.headers.authorization, kind);
      } catch (error) {
        done(error as Error);
        return;
      }
      done();
    });
  }
  app.setNotFoundHandler((_request, reply) => sendError(reply, notFoundResource()));
  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof ServingError) return sendError(reply, error);
    const status = typeof (error as { statusCode?: unknown }).statusCode === "number" ? (error as { statusCode: number }).statusCode : 500;
    if (status === 413) return sendError(reply, new ServingError(413, "BadRequestException", `The request body is larger than max_request_size (${options.maxRequestSize} bytes).`));
    if (status === 405) return sendError(reply, methodNotAllowed());
    if (status >= 400 && status < 500) return sendError(reply, new ServingError(status, "BadRequestException", (error as Error).message));
    return sendError(reply, new ServingError(500, "InternalServerException", (error as Error).message));
  });
  return app;
}
