/**
 * Random credentials (API tokens, session ids, CSRF tokens) and their stored form: 256 random bits,
 * stored as SHA-256 (enough for random secrets: there is nothing to guess), compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Prefix of API tokens, so a leaked one is recognisable by secret scanners. */
export const TOKEN_PREFIX = "capstan_";

/** A new random secret: 32 bytes as base64url, after an optional prefix. */
export function newSecret(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** A short random id for listing and revoking (not a secret). */
export function newId(): string {
  return randomBytes(9).toString("base64url");
}

/** The stored form of a secret. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Constant-time string equality (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
