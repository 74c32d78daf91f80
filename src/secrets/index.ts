/** Team secrets: encrypted at rest, given to tasks as environment variables, masked in logs. */
export { SecretService, SecretError, type SecretRef, type SecretSummary } from "./secret-service.js";
export { loadSecretKey, SecretKeyError } from "./secret-key.js";
export { MASKED, MIN_REDACTED_LENGTH, MIN_REDACTED_LINE_LENGTH, SecretMask, maskedForms, maskedRange } from "./secret-mask.js";
export { LogMasking } from "./log-masking.js";
