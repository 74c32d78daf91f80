/**
 * Slows down password guessing: after too many failed sign-ins for one username from one address
 * within a window, further tries are refused until the window has passed. Kept in memory: a restart
 * forgets it, and scrypt's cost still bounds the rate.
 */
import { TooManyAttemptsError } from "./errors.js";

export interface LoginLimiterOptions {
  /** Failures allowed per (username, address) within the window. */
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
}

export class LoginLimiter {
  readonly #failures = new Map<string, { count: number; since: number }>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.#max = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Throws TooManyAttemptsError when the key has used up its failures. */
  check(username: string, address: string): void {
    const entry = this.#entry(`${username}\0${address}`);
    if (entry && entry.count >= this.#max) {
      const retry = Math.max(1, Math.ceil((entry.since + this.#windowMs - this.#now()) / 1000));
      throw new TooManyAttemptsError(`too many failed sign-ins for ${username}; try again in ${retry} s`, retry);
    }
  }

  failed(username: string, address: string): void {
    const key = `${username}\0${address}`;
    const entry = this.#entry(key) ?? { count: 0, since: this.#now() };
    entry.count += 1;
    this.#failures.set(key, entry);
    if (this.#failures.size > 10_000) this.#sweep();
  }

  succeeded(username: string, address: string): void {
    this.#failures.delete(`${username}\0${address}`);
  }

  #entry(key: string) {
    const entry = this.#failures.get(key);
    if (entry && this.#now() - entry.since >= this.#windowMs) {
      this.#failures.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    for (const key of [...this.#failures.keys()]) this.#entry(key);
  }
}
