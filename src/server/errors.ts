/** Maps errors to HTTP answers `{ error: { code, message, details } }`; bad input is a 4xx, never a 500. */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ParamError, PipelineFileError } from "../pipelines/index.js";
import { ConflictError, InvalidRequestError, NotFoundError } from "../scheduler/index.js";

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

function classify(error: unknown): { status: number; code: string; message: string; details?: unknown } {
  if (error instanceof HttpError) return { status: error.statusCode, code: error.code, message: error.message, details: error.details };
  if (error instanceof NotFoundError) return { status: 404, code: "not_found", message: error.message };
  if (error instanceof ParamError) return { status: 400, code: "invalid_param", message: error.message, details: { param: error.param } };
  if (error instanceof InvalidRequestError) return { status: 400, code: "invalid_request", message: error.message };
  if (error instanceof ConflictError) return { status: 409, code: "conflict", message: error.message };
  if (error instanceof PipelineFileError) return { status: 422, code: "invalid_pipeline", message: error.message, details: error.issues };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return { status: 400, code: "invalid_request", message: fastifyError.message, details: fastifyError.validation };
  if (typeof fastifyError.statusCode === "number" && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, code: fastifyError.code ? fastifyError.code.toLowerCase() : "bad_request", message: fastifyError.message };
  }
  return { status: 500, code: "internal", message: "internal error" };
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, code, message, details } = classify(error);
  if (status >= 500) request.log.error({ err: error }, "request failed");
  void reply.status(status).send({ error: { code, message, ...(details !== undefined ? { details } : {}) } });
}
