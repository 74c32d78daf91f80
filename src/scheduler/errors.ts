/** Errors the scheduler's commands raise for bad requests (unknown ids, bad params, wrong states). */
import { CapstanError } from "../errors/index.js";

/** Something named in a request does not exist. */
export class NotFoundError extends CapstanError {
  override readonly name = "NotFoundError";
  constructor(message: string) {
    super("not_found", "not_found", message);
  }
}

/** A request that cannot be carried out in the current state (e.g. clearing a task of a queued run). */
export class ConflictError extends CapstanError {
  override readonly name = "ConflictError";
  constructor(message: string) {
    super("conflict", "conflict", message);
  }
}

/** A request whose values are invalid (bad dates, ranges). */
export class InvalidRequestError extends CapstanError {
  override readonly name = "InvalidRequestError";
  constructor(message: string) {
    super("invalid", "invalid_request", message);
  }
}
