/** How long a share link lives: "24h", "7d", "90m" or a number of seconds; 7 days when not said, a year at most. */
import { CapstanError } from "../errors/index.js";
import { parseDuration } from "../units/index.js";

/** The lifetime of a link made without one. */
export const DEFAULT_SHARE_LIFETIME_MS = 7 * 24 * 3600_000;
/** The longest lifetime a link may have. */
export const MAX_SHARE_LIFETIME_MS = 365 * 24 * 3600_000;

/** When a link made at `now` with `expiresIn` stops working (epoch ms). */
export function shareExpiry(expiresIn: string | number | undefined, now: number): number {
  if (expiresIn === undefined) return now + DEFAULT_SHARE_LIFETIME_MS;
  const ms = parseDuration(expiresIn);
  if (ms === undefined || ms <= 0)
    throw new CapstanError("invalid", "invalid_expiry", `expiresIn ${JSON.stringify(expiresIn)} is not a lifetime: expected "24h", "7d", "90m" or a number of seconds above 0`, { details: { field: "expiresIn" } });
  if (ms > MAX_SHARE_LIFETIME_MS)
    throw new CapstanError("invalid", "invalid_expiry", `expiresIn ${JSON.stringify(expiresIn)} is longer than a share link may live (365d)`, { details: { field: "expiresIn" } });
  return now + ms;
}
