/** Team secrets: encrypted at rest, given to tasks as environment variables, masked in logs. */
export { SecretService, SecretError, type SecretRef, type SecretSummary } from "./secret-service.js";
export { loadSecretKey, SecretKeyError } from "./secret-key.js";
