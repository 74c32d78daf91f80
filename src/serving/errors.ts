/**
 * Errors of the model server as data: each carries the HTTP status and the exception name that
 * TorchServe's clients read from `{"code", "type", "message"}` bodies. The status is decided here,
 * once; the HTTP layer only renders it.
 */

/** A model-server error with TorchServe's status code and exception name. */
export class ServingError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ServingError";
  }

  /** The JSON body TorchServe answers errors with. */
  toBody(): { code: number; type: string; message: string } {
    return { code: this.status, type: this.type, message: this.message };
  }
}

export const modelNotFound = (message: string): ServingError => new ServingError(404, "ModelNotFoundException", message);
export const versionNotFound = (model: string, version: string): ServingError =>
  new ServingError(404, "ModelVersionNotFoundException", `Model version: ${version} does not exist for model: ${model}`);
export const badRequest = (message: string): ServingError => new ServingError(400, "BadRequestException", message);
export const invalidModel = (message: string): ServingError => new ServingError(400, "InvalidModelException", message);
export const conflict = (message: string): ServingError => new ServingError(409, "ConflictStatusException", message);
export const unavailable = (message: string): ServingError => new ServingError(503, "ServiceUnavailableException", message);
export const internal = (message: string, status = 500): ServingError => new ServingError(status, "InternalServerException", message);
export const notFoundResource = (): ServingError => new ServingError(404, "ResourceNotFoundException", "No such endpoint: see docs/serving.md for the inference and management routes.");
export const methodNotAllowed = (): ServingError => new ServingError(405, "MethodNotAllowedException", "This method is not allowed on this path (registering and deleting models need enable_model_api=true).");
export const invalidKey = (): ServingError =>
  new ServingError(400, "InvalidKeyException", "Token authorization failed: send `Authorization: Bearer KEY` with the current key of this API from key_file.json");
