/** Small formatting helpers for human output. */

/** "2026-01-01 03:00:00" in UTC, or "-". */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, "");
}

/** Seconds between two ISO times, as "1.2s" / "3m4s". */
export function elapsed(from: string | null, to: string | null): string {
  if (!from) return "-";
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
