/**
 * Log text as the API returns it: secret values masked, and chunks cut at a line end so a secret is
 * never split across two answers (where one half would escape the mask).
 */

/** Longest tail held back waiting for its line end while following a log. */
export const MAX_HELD_BYTES = 64 * 1024;

/**
 * Splits `text` into what can be sent now (up to and including the last newline) and the rest to
 * hold back; with `final`, or when the rest has grown past MAX_HELD_BYTES, everything is sent.
 */
export function splitAtLineEnd(text: string, final: boolean): { send: string; hold: string } {
  if (final) return { send: text, hold: "" };
  const cut = text.lastIndexOf("\n");
  if (cut < 0) return Buffer.byteLength(text) > MAX_HELD_BYTES ? { send: text, hold: "" } : { send: "", hold: text };
  const hold = text.slice(cut + 1);
  if (Buffer.byteLength(hold) > MAX_HELD_BYTES) return { send: text, hold: "" };
  return { send: text.slice(0, cut + 1), hold };
}
