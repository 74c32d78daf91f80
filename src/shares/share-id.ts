/** Share link ids: 192 random bits from the system's CSPRNG, base64url (32 characters), so a link cannot be guessed. */
import { randomBytes } from "node:crypto";

/** Random bytes per id (≥ 16, the 128 bits the security rules ask). */
const ID_BYTES = 24;

/** What an id looks like; anything else is not found without a database read. */
export const SHARE_ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/** A new share id. */
export function newShareId(): string {
  return randomBytes(ID_BYTES).toString("base64url");
}
