/**
 * The proof that a browser gave a share's password: `<expiry>.<HMAC-SHA256>` keyed by the stored
 * password hash (never sent to clients) over the share id and the expiry. It needs no server state,
 * works on every replica and after restarts, and stops working when the password's hash changes or
 * the time passes.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** How long an unlock lasts (capped by the share's own expiry). */
export const UNLOCK_LIFETIME_MS = 12 * 3600_000;

function mac(shareId: string, passwordHash: string, expiresAt: number): Buffer {
  return createHmac("sha256", passwordHash).update(`capstan-share-unlock\0${shareId}\0${expiresAt}`).digest();
}

/** A new unlock token for the share, valid until `expiresAt`. */
export function unlockToken(shareId: string, passwordHash: string, expiresAt: number): string {
  return `${expiresAt}.${mac(shareId, passwordHash, expiresAt).toString("base64url")}`;
}

/** True when `token` unlocks the share at `now`. */
export function validUnlockToken(token: string, shareId: string, passwordHash: string, now: number): boolean {
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match?.[1] || !match[2]) return false;
  const expiresAt = Number(match[1]);
  if (expiresAt <= now) return false;
  const sent = Buffer.from(match[2], "base64url");
  const expected = mac(shareId, passwordHash, expiresAt);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}
