/** Errors of authentication and authorisation, each of the kind the edges map to a status or exit code. */
import { CapstanError } from "../errors/index.js";

/** Base class of the auth errors. */
export abstract class AuthError extends CapstanError {}

/** No credential, or one that is wrong, expired or revoked. */
export class AuthenticationError extends AuthError {
  override readonly name = "AuthenticationError";
  constructor(message: string) {
    super("unauthenticated", "unauthenticated", message);
  }
}

/** Signed in, but the role does not allow the action. */
export class ForbiddenError extends AuthError {
  override readonly name = "ForbiddenError";
  constructor(message: string) {
    super("forbidden", "forbidden", message);
  }
}

/** A user, team, member or token that does not exist (or that the caller may not see). */
export class AuthNotFoundError extends AuthError {
  override readonly name = "AuthNotFoundError";
  constructor(message: string) {
    super("not_found", "not_found", message);
  }
}

/** A name that is taken, or a change that would leave no admin. */
export class AuthConflictError extends AuthError {
  override readonly name = "AuthConflictError";
  constructor(message: string) {
    super("conflict", "conflict", message);
  }
}

/** A value that does not fit: a username, team name, password or expiry. */
export class AuthInputError extends AuthError {
  override readonly name = "AuthInputError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super("invalid", "invalid_request", message, { details: { field } });
  }
}

/** Too many failed sign-ins for one username from one address; try again later. */
export class TooManyAttemptsError extends AuthError {
  override readonly name = "TooManyAttemptsError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("rate_limited", "too_many_attempts", message, { details: { retry_after_seconds: retryAfterSeconds } });
  }
}
