/**
 * The exit code of each kind of platform error: the one place the CLI maps kinds to codes.
 * `capstan notebook run` keeps papermill's codes (1 a failed run, 138 a dead kernel, 2 usage),
 * which its errors carry as part of that command's contract.
 */
import { CapstanError, type ErrorKind } from "../errors/index.js";

const EXIT_CODES: Record<ErrorKind, number> = {
  invalid: 2,
  invalid_file: 2,
  not_found: 2,
  conflict: 2,
  quota: 2,
  unauthenticated: 2,
  forbidden: 2,
  rate_limited: 2,
  in_use: 3,
  unavailable: 1,
};

/** The code the process exits with after `error`. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CapstanError) return EXIT_CODES[error.kind];
  if (error && typeof error === "object" && "exitCode" in error && typeof error.exitCode === "number") {
    return error.exitCode;
  }
  return 1;
}
