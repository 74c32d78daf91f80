/**
 * Masking for the platform's own log (pino): a `hooks.streamWrite` that passes each serialized line
 * through the secrets service before it is written, so a failure reason, an error message or any
 * other field that holds a secret value (raw, or JSON-escaped as log lines hold it) shows `***`.
 * The logger exists before the secrets service; lines are masked from `attach` on (the platform
 * attaches it as it opens, before anything runs).
 */
import type { SecretService } from "./secret-service.js";

export class LogMasking {
  #secrets: SecretService | undefined;

  attach(secrets: SecretService): void {
    this.#secrets = secrets;
  }

  /** For pino's `hooks: { streamWrite }`. */
  readonly streamWrite = (line: string): string => (this.#secrets ? this.#secrets.redactNow(line) : line);
}
