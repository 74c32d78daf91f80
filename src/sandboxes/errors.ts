/**
 * Errors of sandboxes as platform errors: each says its kind (the API maps it to a status, the CLI
 * to an exit code) and carries the field at fault in `field` and in its details, where there is one.
 */
import { CapstanError } from "../errors/index.js";

/** A value that does not fit: a name, a profile, a confirmation. `field` names it. */
export class SandboxInputError extends CapstanError {
  override readonly name = "SandboxInputError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super("invalid", "invalid_request", message, { details: { field } });
  }
}

/** No such sandbox, or one the caller may not see. */
export class SandboxNotFoundError extends CapstanError {
  override readonly name = "SandboxNotFoundError";
  constructor(message: string) {
    super("not_found", "not_found", message);
  }
}

/** A name that is taken, or a move the sandbox's state does not allow (start while stopping, delete while running). */
export class SandboxConflictError extends CapstanError {
  override readonly name = "SandboxConflictError";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super("conflict", "conflict", message, field === undefined ? {} : { details: { field } });
  }
}

/** Over the team's quota of sandboxes or GPUs; `field` is `quota.sandboxes` or `quota.gpus`. */
export class SandboxQuotaError extends CapstanError {
  override readonly name = "SandboxQuotaError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super("quota", "quota_exceeded", message, { details: { field } });
  }
}

/** Not the owner (or an admin) of the sandbox. */
export class SandboxForbiddenError extends CapstanError {
  override readonly name = "SandboxForbiddenError";
  constructor(message: string) {
    super("forbidden", "forbidden", message);
  }
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
