/**
 * The one error base of the platform. An error says what kind of failure it is and carries the
 * structured fields a caller needs (the param, the field, the issues, when to retry); the HTTP
 * status (server/error-status.ts) and the CLI exit code (cli/exit-codes.ts) are each mapped from
 * the kind in one place, so no engine error knows about either.
 */

/** What kind of failure an error is. */
export type ErrorKind =
  /** a value does not fit: a param, a field, a date, a name */
  | "invalid"
  /** a file the platform reads (a pipeline file, capstan.yaml) does not validate */
  | "invalid_file"
  /** what is named does not exist, or the caller may not see it */
  | "not_found"
  /** the request cannot be carried out in the current state, or a name is taken */
  | "conflict"
  /** over a team's quota */
  | "quota"
  /** no credential, or one that is wrong, expired or revoked */
  | "unauthenticated"
  /** signed in, but the role does not allow it */
  | "forbidden"
  /** too many attempts; try again later */
  | "rate_limited"
  /** something this needs is held by another process (the scheduler lock of a home) */
  | "in_use"
  /** a component this needs cannot be reached or does not answer */
  | "unavailable";

/** Options of a {@link CapstanError}. */
export interface CapstanErrorOptions extends ErrorOptions {
  /** structured fields for callers and the API's `details` */
  details?: Record<string, unknown> | readonly unknown[];
}

/** An error of the platform: a kind, a stable machine code, a message for people, structured details. */
export class CapstanError extends Error {
  override name = "CapstanError";
  readonly details: Record<string, unknown> | readonly unknown[] | undefined;

  constructor(
    /** what kind of failure this is */
    readonly kind: ErrorKind,
    /** a stable code for programs, such as `invalid_param` or `not_found` */
    readonly code: string,
    message: string,
    options: CapstanErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }
}

/** True for an error of the platform. */
export function isCapstanError(error: unknown): error is CapstanError {
  return error instanceof CapstanError;
}
