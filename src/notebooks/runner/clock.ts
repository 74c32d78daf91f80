/**
 * Timestamps in the shapes papermill and nbclient write: naive UTC ISO with microseconds for
 * `metadata.papermill`, and `%Y-%m-%dT%H:%M:%S.%fZ` for `metadata.execution`.
 */

/** A wall-clock instant in microseconds since the epoch. */
export type Micros = number;

/** Now, in microseconds (sub-millisecond precision from the performance clock). */
export function nowMicros(): Micros {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/** Python's `datetime.utcnow().isoformat()` for an instant (fraction omitted when zero). */
export function isoformat(micros: Micros): string {
  const date = new Date(Math.floor(micros / 1000));
  const fraction = micros % 1_000_000;
  const base = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return fraction === 0 ? base : `${base}.${pad(fraction, 6)}`;
}

/** The seconds between two instants, as `timedelta.total_seconds()` gives them. */
export function secondsBetween(start: Micros, end: Micros): number {
  return (end - start) / 1_000_000;
}

const HEADER_DATE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?/;

/** nbclient's `timestamp(msg)`: the message header's date with six fraction digits and a Z. */
export function messageTimestamp(date: string | undefined): string {
  const match = date === undefined ? null : HEADER_DATE.exec(date);
  if (!match) {
    return `${isoformat(nowMicros())}Z`;
  }
  return `${match[1] ?? ""}.${(match[2] ?? "").padEnd(6, "0").slice(0, 6)}Z`;
}
