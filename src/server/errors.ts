/** Maps errors to HTTP answers `{ error: { code, message, details } }`; bad input is a 4xx, never a 500. */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { TooManyAttemptsError } from "../auth/index.js";
import { CapstanError } from "../errors/index.js";
import { httpStatusOf } from "./error-status.js";

/** An error with an HTTP status and a stable code, raised by route handlers. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A 404 that reads the same whether the thing does not exist or belongs to a team the caller is not in. */
export function notFound(what: string, id: string): HttpError {
  return new HttpError(404, "not_found", `no ${what} ${JSON.stringify(id)}`);
}

interface Classified {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

function classify(error: unknown): Classified {
  if (error instanceof HttpError) return { status: error.statusCode, code: error.code, message: error.message, details: error.details };
  if (error instanceof CapstanError) return { status: httpStatusOf(error.kind), code: error.code, message: error.message, details: error.details };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return { status: 400, code: "invalid_request", message: fastifyError.message, details: fastifyError.validation.map((v) => ({ path: v.instancePath, message: v.message, params: v.params })) };
  }
  if (typeof fastifyError.statusCode === "number" && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, code: fastifyError.code ? fastifyError.code.toLowerCase() : "bad_request", message: fastifyError.message };
  }
  return { status: 500, code: "internal", message: "internal error" };
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, code, message, details } = classify(error);
  if (status >= 500) request.log.error({ err: error }, "request failed");
  if (error instanceof TooManyAttemptsError) void reply.header("retry-after", String(error.retryAfterSeconds));
  void reply.status(status).send({ error: { code, message, ...(details !== undefined ? { details } : {}) } });
}
