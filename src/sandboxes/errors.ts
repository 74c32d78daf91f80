/**
 * Errors of sandboxes, each with the HTTP status and code the API answers with and the field at
 * fault where there is one, so the edge (API, CLI) decides nothing but how to print them.
 */

export abstract class SandboxError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly exitCode = 2;
}

/** A value that does not fit: a name, a profile, a confirmation. `field` names it. */
export class SandboxInputError extends SandboxError {
  override readonly name = "SandboxInputError";
  readonly status = 400;
  readonly code = "invalid_request";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** No such sandbox, or one the caller may not see. */
export class SandboxNotFoundError extends SandboxError {
  override readonly name = "SandboxNotFoundError";
  readonly status = 404;
  readonly code = "not_found";
}

/** A name that is taken, or a move the sandbox's state does not allow (start while stopping, delete while running). */
export class SandboxConflictError extends SandboxError {
  override readonly name = "SandboxConflictError";
  readonly status = 409;
  readonly code = "conflict";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Over the team's quota of sandboxes or GPUs; `field` is `quota.sandboxes` or `quota.gpus`. */
export class SandboxQuotaError extends SandboxError {
  override readonly name = "SandboxQuotaError";
  readonly status = 409;
  readonly code = "quota_exceeded";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Not the owner (or an admin) of the sandbox. */
export class SandboxForbiddenError extends SandboxError {
  override readonly name = "SandboxForbiddenError";
  readonly status = 403;
  readonly code = "forbidden";
}

/** The backend could not start the sandbox; `reason` is the short cause stored with the failed state. */
export class SandboxStartError extends Error {
  override readonly name = "SandboxStartError";
  constructor(
    readonly reason: "image_pull" | "unschedulable" | "crash" | "quota" | "timeout",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
