/**
 * Masks secret values inside structured answers (task outputs and failure reasons, which a task
 * controls) with one call of the secrets service per answer: the strings are joined with a
 * separator no secret contains, masked together, and put back in place.
 */

const SEPARATOR = "\u0000\u241e\u0000";

type Redact = (text: string) => Promise<string>;

function collect(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) collect(v, out);
}

function rebuild(value: unknown, next: () => string): unknown {
  if (typeof value === "string") return next();
  if (Array.isArray(value)) return value.map((v) => rebuild(v, next));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rebuild(v, next)]));
  return value;
}

/** A copy of `values` with every string in them masked. */
export async function redactValues<T>(values: readonly T[], redact: Redact): Promise<T[]> {
  const strings: string[] = [];
  for (const v of values) collect(v, strings);
  if (strings.length === 0) return [...values];
  const joined = strings.join(SEPARATOR);
  const redacted = await redact(joined);
  // Nothing was masked (the usual case): the values go out as they are.
  if (redacted === joined) return [...values];
  let masked = redacted.split(SEPARATOR);
  if (masked.length !== strings.length) masked = await Promise.all(strings.map((s) => redact(s)));
  let i = 0;
  const next = () => masked[i++] ?? "";
  return values.map((v) => rebuild(v, next) as T);
}

/** Task views with `reason` and `outputs` masked (the fields a task writes). */
export async function redactTaskFields<T extends { reason: string | null; outputs: Record<string, unknown> | null }>(tasks: readonly T[], redact: Redact): Promise<T[]> {
  const original = tasks.map((t) => ({ reason: t.reason, outputs: t.outputs }));
  const fields = await redactValues(original, redact);
  if (fields.every((f, i) => f === original[i])) return [...tasks];
  return tasks.map((t, i) => ({ ...t, ...fields[i] }));
}

/** Run views with every task's `reason` and `outputs` masked. */
export async function redactRunViews<T extends { tasks: Record<string, { reason: string | null; outputs: Record<string, unknown> | null }> }>(runs: readonly T[], redact: Redact): Promise<T[]> {
  const entries = runs.flatMap((r) => Object.values(r.tasks));
  const masked = await redactTaskFields(entries, redact);
  if (masked.every((m, i) => m === entries[i])) return [...runs];
  let i = 0;
  return runs.map((r) => ({ ...r, tasks: Object.fromEntries(Object.entries(r.tasks).map(([id]) => [id, masked[i++]])) }));
}
