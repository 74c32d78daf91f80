/** Errors of authentication and authorisation, each with the HTTP status it maps to. */

/** Base class: `status` and `code` are what the HTTP API answers with. */
export abstract class AuthError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly exitCode = 2;
}

/** No credential, or one that is wrong, expired or revoked. */
export class AuthenticationError extends AuthError {
  override readonly name = "AuthenticationError";
  readonly status = 401;
  readonly code = "unauthenticated";
}

/** Signed in, but the role does not allow the action. */
export class ForbiddenError extends AuthError {
  override readonly name = "ForbiddenError";
  readonly status = 403;
  readonly code = "forbidden";
}

/** A user, team, member or token that does not exist (or that the caller may not see). */
export class AuthNotFoundError extends AuthError {
  override readonly name = "AuthNotFoundError";
  readonly status = 404;
  readonly code = "not_found";
}

/** A name that is taken, or a change that would leave no admin. */
export class AuthConflictError extends AuthError {
  override readonly name = "AuthConflictError";
  readonly status = 409;
  readonly code = "conflict";
}

/** A value that does not fit: a username, team name, password or expiry. */
export class AuthInputError extends AuthError {
  override readonly name = "AuthInputError";
  readonly status = 400;
  readonly code = "invalid_request";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Too many failed sign-ins for one username from one address; try again later. */
export class TooManyAttemptsError extends AuthError {
  override readonly name = "TooManyAttemptsError";
  readonly status = 429;
  readonly code = "too_many_attempts";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
