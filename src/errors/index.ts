/** The platform's one error base: kinds, codes and details; status and exit codes are mapped at the edges. */
export { CapstanError, isCapstanError, type CapstanErrorOptions, type ErrorKind } from "./capstan-error.js";
