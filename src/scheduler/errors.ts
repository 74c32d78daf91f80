/** Errors the scheduler's commands raise for bad requests (unknown ids, bad params, wrong states). */

/** Something named in a request does not exist. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
  readonly exitCode = 2;
}

/** A request that cannot be carried out in the current state (e.g. clearing a task of a queued run). */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
  readonly exitCode = 2;
}

/** A request whose values are invalid (bad dates, ranges). */
export class InvalidRequestError extends Error {
  override readonly name = "InvalidRequestError";
  readonly exitCode = 2;
}
