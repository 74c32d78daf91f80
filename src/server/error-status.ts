/** The HTTP status of each kind of platform error: the one place the API maps kinds to statuses. */
import type { ErrorKind } from "../errors/index.js";

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  invalid_file: 422,
  not_found: 404,
  conflict: 409,
  quota: 409,
  unauthenticated: 401,
  forbidden: 403,
  rate_limited: 429,
  in_use: 409,
  unavailable: 503,
};

/** The status the API answers an error of this kind with. */
export function httpStatusOf(kind: ErrorKind): number {
  return STATUS[kind];
}
