/**
 * How a browser signs in to a sandbox's origin: the platform origin issues a one-time code (60 s,
 * bound to one sandbox and one user), the sandbox origin exchanges it for a host-only cookie. Both
 * live in memory, stored as hashes; a restart of Capstan means opening the sandbox again from the
 * platform. A sandbox session ends with the platform credential it came from.
 */
import { hashSecret, newSecret, type Principal } from "../../auth/index.js";

export interface SandboxSession {
  sandboxId: string;
  principal: Principal;
  expiresAt: number;
}

interface PendingCode extends SandboxSession {
  path: string;
}

export const OPEN_CODE_TTL_MS = 60_000;
export const SANDBOX_SESSION_TTL_MS = 12 * 3_600_000;

export class SandboxSessions {
  readonly #codes = new Map<string, PendingCode>();
  readonly #sessions = new Map<string, SandboxSession>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A one-time code for `principal` to open `sandboxId` at `path`. */
  issueCode(principal: Principal, sandboxId: string, path: string): string {
    this.#sweep();
    const code = newSecret();
    this.#codes.set(hashSecret(code), { sandboxId, principal, path, expiresAt: this.#now() + OPEN_CODE_TTL_MS });
    return code;
  }

  /** Exchanges a code (once) for a session of the sandbox whose origin received it; undefined when it is unknown, used, expired or for another sandbox. */
  redeem(code: string, sandboxId: string): { secret: string; path: string; session: SandboxSession } | undefined {
    const key = hashSecret(code);
    const pending = this.#codes.get(key);
    this.#codes.delete(key);
    if (!pending || pending.expiresAt <= this.#now() || pending.sandboxId !== sandboxId) return undefined;
    const expiresAt = Math.min(this.#now() + SANDBOX_SESSION_TTL_MS, pending.principal.expiresAt ?? Number.POSITIVE_INFINITY);
    const session = { sandboxId, principal: pending.principal, expiresAt };
    const secret = newSecret();
    this.#sessions.set(hashSecret(secret), session);
    return { secret, path: pending.path, session };
  }

  /** The live session of a cookie for this sandbox, if any. */
  session(secret: string, sandboxId: string): SandboxSession | undefined {
    const key = hashSecret(secret);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session.sandboxId === sandboxId ? session : undefined;
  }

  /** Ends a session (its platform credential ended). */
  end(secret: string): void {
    this.#sessions.delete(hashSecret(secret));
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, code] of this.#codes) if (code.expiresAt <= now) this.#codes.delete(key);
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(key);
  }
}
