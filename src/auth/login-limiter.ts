/**
 * Slows down password guessing. Every sign-in attempt takes a slot before its password is checked,
 * both for the account (whatever the address) and for the address (whatever the account); a failed
 * attempt keeps its slot until the window has passed, a successful one gives it back. When either
 * has no slot left, the attempt is refused before any password is checked — so parallel guesses
 * cannot all slip in while the first ones are still being hashed. Kept in memory: a restart forgets
 * it, and scrypt's cost still bounds the rate.
 */
import { TooManyAttemptsError } from "./errors.js";

export interface LoginLimits {
  /** Attempts per account (from any address) that may fail within the window (default 10). */
  perAccount?: number;
  /** Attempts per client address (for any account) that may fail within the window (default 50). */
  perAddress?: number;
  /** How long a failed attempt counts (default 15 minutes). */
  windowMs?: number;
}

export interface LoginLimiterOptions extends LoginLimits {
  now?: () => number;
}

/** An attempt that holds a slot of its account and its address until it is settled. */
export interface LoginAttempt {
  /** The password was right: give the slots back. */
  succeeded(): void;
  /** The password was wrong: the slots stay taken until the window has passed. */
  failed(): void;
}

interface Counter {
  count: number;
  since: number;
}

export const DEFAULT_LOGIN_LIMITS = { perAccount: 10, perAddress: 50, windowMs: 15 * 60_000 } as const;

export class LoginLimiter {
  readonly #accounts = new Map<string, Counter>();
  readonly #addresses = new Map<string, Counter>();
  readonly #perAccount: number;
  readonly #perAddress: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.#perAccount = options.perAccount ?? DEFAULT_LOGIN_LIMITS.perAccount;
    this.#perAddress = options.perAddress ?? DEFAULT_LOGIN_LIMITS.perAddress;
    this.#windowMs = options.windowMs ?? DEFAULT_LOGIN_LIMITS.windowMs;
    this.#now = options.now ?? Date.now;
    for (const [name, value] of [["perAccount", this.#perAccount], ["perAddress", this.#perAddress], ["windowMs", this.#windowMs]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`login limit ${name}: expected a whole number ≥ 1, got ${value}`);
    }
  }

  /**
   * Takes a slot for `username` and one for `address`, or throws TooManyAttemptsError (taking none)
   * when either has none left. Call this before checking the password, and settle the attempt after.
   */
  begin(username: string, address: string): LoginAttempt {
    const now = this.#now();
    const account = this.#live(this.#accounts, username, now);
    const from = this.#live(this.#addresses, address, now);
    if (account && account.count >= this.#perAccount) throw this.#refusal(`too many failed sign-ins for ${username}`, account, now);
    if (from && from.count >= this.#perAddress) throw this.#refusal(`too many failed sign-ins from ${address}`, from, now);
    const accountSlot = this.#take(this.#accounts, username, account, now);
    const addressSlot = this.#take(this.#addresses, address, from, now);
    let settled = false;
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.#give(this.#accounts, username, accountSlot);
        this.#give(this.#addresses, address, addressSlot);
      },
      failed: () => {
        settled = true;
      },
    };
  }

  #refusal(what: string, counter: Counter, now: number): TooManyAttemptsError {
    const retry = Math.max(1, Math.ceil((counter.since + this.#windowMs - now) / 1000));
    return new TooManyAttemptsError(`${what}; try again in ${retry} s`, retry);
  }

  /** The counter of a key when its window is still open (an expired one is dropped). */
  #live(map: Map<string, Counter>, key: string, now: number): Counter | undefined {
    const counter = map.get(key);
    if (counter && now - counter.since >= this.#windowMs) {
      map.delete(key);
      return undefined;
    }
    return counter;
  }

  #take(map: Map<string, Counter>, key: string, counter: Counter | undefined, now: number): Counter {
    const taken = counter ?? { count: 0, since: now };
    taken.count += 1;
    map.set(key, taken);
    if (map.size > 10_000) this.#sweep(map, now);
    return taken;
  }

  /** Gives a slot back to the counter it was taken from (unless that window has since been replaced). */
  #give(map: Map<string, Counter>, key: string, counter: Counter): void {
    if (map.get(key) !== counter) return;
    counter.count -= 1;
    if (counter.count <= 0) map.delete(key);
  }

  #sweep(map: Map<string, Counter>, now: number): void {
    for (const key of [...map.keys()]) this.#live(map, key, now);
  }
}
