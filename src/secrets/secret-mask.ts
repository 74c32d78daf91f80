/**
 * What masking hides and how: each secret value in the forms it takes in logs, JSON and HTML, found
 * in bytes (log files) or text (API answers) and replaced by `***`, one `***` per contiguous masked
 * piece. Masking more than needed is safe; showing any part of a value is not.
 */

/** Values shorter than this are not masked: masking "1" or "ok" everywhere would ruin logs. */
export const MIN_REDACTED_LENGTH = 4;
/** A line of a multi-line value is masked on its own (wherever it appears) from this length. */
export const MIN_REDACTED_LINE_LENGTH = 8;
/** What a masked piece reads as. */
export const MASKED = "***";

/** The inside of a JSON string literal: `"` → `\"`, `\` → `\\`, newline → `\n`, other controls → `\u00XX`. */
function jsonInner(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The same as Python's json.dumps writes it by default (ensure_ascii): everything outside ASCII as `\uXXXX`. */
function jsonAsciiInner(text: string): string {
  return jsonInner(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The inside of Python's repr() of a string (how a notebook shows a string value it evaluated). */
function pythonReprInner(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const named: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", [quote]: `\\${quote}` };
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    out += named[c] ?? (code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : c);
  }
  return out;
}

/** HTML escapes as markdown-it (& < > "), ansi_up (' as &#x27;) and this project's renderer (' as &#39;) write them. */
function htmlForms(text: string): string[] {
  const base = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const quoted = base.replace(/"/g, "&quot;");
  return [base, quoted, quoted.replace(/'/g, "&#39;"), quoted.replace(/'/g, "&#x27;")];
}

function encodings(text: string): string[] {
  return [jsonInner(text), jsonAsciiInner(text), pythonReprInner(text), ...htmlForms(text)];
}

/**
 * Every form of `value` that is masked: the value itself; for a multi-line value each line of at
 * least MIN_REDACTED_LINE_LENGTH characters (trimmed) and the value with CRLF line ends; the value
 * with each run of whitespace made one space (as one-line failure reasons show it); and each of
 * these JSON-escaped (also with non-ASCII as \uXXXX), as inside Python's repr(), HTML-escaped, and
 * escaped twice (JSON in JSON, JSON in HTML, HTML in JSON). Nothing when the value is shorter than MIN_REDACTED_LENGTH.
 */
export function maskedForms(value: string): string[] {
  if (value.length < MIN_REDACTED_LENGTH) return [];
  const bases = new Set<string>([value]);
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n|\r/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_REDACTED_LINE_LENGTH) bases.add(trimmed);
    }
    bases.add(value.replace(/\r?\n/g, "\r\n"));
  }
  const flat = value.replace(/\s+/g, " ").trim();
  if (flat.length >= MIN_REDACTED_LENGTH) bases.add(flat);
  const forms = new Set<string>();
  for (const base of bases) {
    forms.add(base);
    for (const once of encodings(base)) {
      forms.add(once);
      for (const twice of encodings(once)) forms.add(twice);
    }
  }
  return [...forms];
}

type Interval = [start: number, end: number];

/** Occurrences (overlapping ones included) of every pattern, merged where they overlap or touch. */
function coverage<T>(patterns: readonly T[], lengths: readonly number[], indexOf: (pattern: T, from: number) => number): Interval[] {
  const found: Interval[] = [];
  patterns.forEach((pattern, i) => {
    const length = lengths[i] ?? 0;
    for (let at = indexOf(pattern, 0); at >= 0; at = indexOf(pattern, at + 1)) found.push([at, at + length]);
  });
  if (found.length <= 1) return found;
  found.sort((a, b) => a[0] - b[0]);
  const merged: Interval[] = [];
  for (const interval of found) {
    const last = merged[merged.length - 1];
    if (last && interval[0] <= last[1]) last[1] = Math.max(last[1], interval[1]);
    else merged.push([interval[0], interval[1]]);
  }
  return merged;
}

/** A set of secret values ready to be found in text or in the bytes of a log. */
export class SecretMask {
  readonly #texts: string[];
  readonly #bytes: Buffer[];
  readonly #byteLengths: number[];
  /** Length in bytes of the longest masked form: how much context a byte range needs on each side. */
  readonly longestBytes: number;

  private constructor(forms: Iterable<string>) {
    // Longest first, so that `***` replaces a value that contains another whole.
    this.#texts = [...new Set(forms)].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
    this.#bytes = this.#texts.map((t) => Buffer.from(t, "utf8"));
    this.#byteLengths = this.#bytes.map((b) => b.length);
    this.longestBytes = Math.max(0, ...this.#byteLengths);
  }

  /** A mask of these secret values (each in all of its maskedForms). */
  static of(values: Iterable<string>): SecretMask {
    const forms: string[] = [];
    for (const value of values) forms.push(...maskedForms(value));
    return new SecretMask(forms);
  }

  static readonly none = new SecretMask([]);

  get empty(): boolean {
    return this.#texts.length === 0;
  }

  /** `text` with every masked piece replaced by `***` (the same string when nothing matched). */
  maskText(text: string): string {
    if (this.empty || text === "") return text;
    const covered = coverage(this.#texts, this.#texts.map((t) => t.length), (p, from) => text.indexOf(p, from));
    if (covered.length === 0) return text;
    let out = "";
    let pos = 0;
    for (const [start, end] of covered) {
      out += text.slice(pos, start) + MASKED;
      pos = end;
    }
    return out + text.slice(pos);
  }

  /** Byte intervals of `buffer` that belong to an occurrence of a masked form, merged. */
  coverage(buffer: Buffer): Interval[] {
    if (this.empty) return [];
    return coverage(this.#bytes, this.#byteLengths, (p, from) => buffer.indexOf(p, from));
  }

  /**
   * Where a masked form may be starting that `buffer` has not finished: the smallest index whose
   * suffix is a proper prefix of a masked form (buffer.length when there is none). Bytes from there
   * on are held back while more can still come.
   */
  unfinishedFrom(buffer: Buffer): number {
    let earliest = buffer.length;
    for (const pattern of this.#bytes) {
      const first = pattern[0] ?? 0;
      const lowest = Math.max(0, buffer.length - pattern.length + 1);
      // Only the last pattern.length - 1 bytes can start an unfinished occurrence.
      const tail = buffer.subarray(lowest);
      for (let at = tail.length - 1; at >= 0; at--) {
        at = tail.lastIndexOf(first, at);
        if (at < 0) break;
        const start = lowest + at;
        if (start < earliest && buffer.compare(pattern, 0, buffer.length - start, start) === 0) earliest = start;
      }
    }
    return earliest;
  }
}

/**
 * Bytes `from`–`to` of `buffer` as text, with every byte that belongs to an occurrence found in the
 * whole buffer (`covered`, from SecretMask.coverage) shown as `***`: one per contiguous piece, so a
 * range that starts or ends inside a value shows `***` for its part of it.
 */
export function maskedRange(buffer: Buffer, from: number, to: number, covered: readonly Interval[]): string {
  if (from >= to) return "";
  const parts: string[] = [];
  let pos = from;
  for (const [start, end] of covered) {
    if (end <= pos || start >= to) continue;
    if (start > pos) parts.push(buffer.toString("utf8", pos, start));
    parts.push(MASKED);
    pos = Math.min(end, to);
  }
  if (pos < to) parts.push(buffer.toString("utf8", pos, to));
  return parts.join("");
}
