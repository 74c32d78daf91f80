/** Maps errors to HTTP answers `{ error: { code, message, details } }`; bad input is a 4xx, never a 500. */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AuthError, AuthInputError, TooManyAttemptsError } from "../auth/index.js";
import { ParamError, PipelineFileError } from "../pipelines/index.js";
import { ConflictError, InvalidRequestError, NotFoundError } from "../scheduler/index.js";
import { SecretError } from "../secrets/index.js";

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
  if (error instanceof AuthInputError) return { status: 400, code: error.code, message: error.message, details: { field: error.field } };
  if (error instanceof TooManyAttemptsError) return { status: 429, code: error.code, message: error.message, details: { retry_after_seconds: error.retryAfterSeconds } };
  if (error instanceof AuthError) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof NotFoundError) return { status: 404, code: "not_found", message: error.message };
  if (error instanceof ParamError) return { status: 400, code: "invalid_param", message: error.message, details: { param: error.param } };
  if (error instanceof InvalidRequestError) return { status: 400, code: "invalid_request", message: error.message };
  if (error instanceof ConflictError) return { status: 409, code: "conflict", message: error.message };
  if (error instanceof SecretError) return { status: 400, code: "invalid_secret", message: error.message };
  if (error instanceof PipelineFileError) return { status: 422, code: "invalid_pipeline", message: error.message, details: error.issues };
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
