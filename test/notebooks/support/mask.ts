/**
 * Masks the values that differ between any two runs of the same notebook (times, durations,
 * execution timestamps, the runner's version, ids of cells created fresh), leaving the rest of
 * the file text, layout included, to compare byte for byte.
 */

/** Options of {@link maskVolatile}. */
export interface MaskOptions {
  /** mask every cell id (notebooks upgraded from before nbformat 4.5 get random ids) */
  allIds?: boolean;
}

const FRESH_CELL_TAGS = ["injected-parameters", "papermill-error-cell-tag"];

interface CellLike {
  id?: string;
  metadata?: { tags?: string[] };
}

/** The notebook text with volatile values replaced by placeholders. */
export function maskVolatile(text: string, options: MaskOptions = {}): string {
  // Python writes NaN and Infinity for non-finite floats; they carry no ids, so null will do here.
  const notebook = JSON.parse(text.replace(/\bNaN\b|-?\bInfinity\b/g, "null")) as { cells?: CellLike[] };
  let masked = text;
  for (const cell of notebook.cells ?? []) {
    const fresh = (cell.metadata?.tags ?? []).some((tag) => FRESH_CELL_TAGS.includes(tag));
    if (cell.id !== undefined && (options.allIds || fresh)) {
      masked = masked.split(`"id": ${JSON.stringify(cell.id)}`).join('"id": "<id>"');
    }
  }
  return masked
    .replace(/("(?:start_time|end_time)": )"[^"]*"/g, '$1"<time>"')
    .replace(/("duration": )-?[0-9][0-9.e+-]*/g, "$1<duration>")
    .replace(/("(?:iopub\.status\.busy|iopub\.status\.idle|iopub\.execute_input|shell\.execute_reply)": )"[^"]*"/g, '$1"<time>"')
    .replace(/("version": )"(?:2\.6\.0|capstan-[^"]*)"/g, '$1"<version>"');
}

/**
 * Printed text with what names the runner masked: the usage line's program name and the
 * `--version` line (version, install path and runtime version).
 */
export function maskStreams(text: string): string {
  return text
    .replace(/^Usage: (?:papermill|capstan notebook run) /gm, "Usage: <runner> ")
    .replace(/^\S+ from \S+ \([^)]*\)$/gm, "<version> from <path> (<runtime>)");
}

/** The first line where two texts differ, with a little context, for failure messages. */
export function firstDifference(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
    if (a[index] !== b[index]) {
      const from = Math.max(0, index - 3);
      return `line ${index + 1}:\n--- papermill\n${a.slice(from, index + 3).join("\n")}\n+++ capstan\n${b.slice(from, index + 3).join("\n")}`;
    }
  }
  return "identical";
}

/** `metadata.papermill` times: Python's naive UTC `isoformat()` (the fraction is left out when it is zero). */
const PAPERMILL_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?$/;
/** `metadata.execution` times: nbclient's `%Y-%m-%dT%H:%M:%S.%fZ`. */
const EXECUTION_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?Z$/;
const EXECUTION_FIELDS = ["iopub.status.busy", "iopub.execute_input", "shell.execute_reply", "iopub.status.idle"] as const;
/** How far a duration may be from end − start, in seconds (both come from the same two instants). */
const DURATION_TOLERANCE = 1e-5;

/** Microseconds since the epoch of a time in `shape`, or a problem. */
function micros(value: unknown, shape: RegExp, where: string): bigint | string {
  if (typeof value !== "string") return `${where}: ${JSON.stringify(value)} is not a string`;
  const match = shape.exec(value);
  if (!match) return `${where}: ${JSON.stringify(value)} is not in the shape ${String(shape)}`;
  const [, y, mo, d, h, mi, s, fraction] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== value.slice(0, 19)) return `${where}: ${JSON.stringify(value)} is not a real date`;
  if (fraction === "000000") return `${where}: ${JSON.stringify(value)} has a zero fraction, which isoformat() leaves out`;
  return BigInt(ms) * 1000n + BigInt(fraction ?? "0");
}

interface TimedMetadata {
  start_time?: unknown;
  end_time?: unknown;
  duration?: unknown;
}

/** Problems with one `metadata.papermill`: times in papermill's shape, duration ≥ 0 and ≈ end − start. */
function papermillTimes(meta: TimedMetadata | undefined, where: string, problems: string[]): [bigint, bigint] | undefined {
  // Absent (--prepare-only) or null (a cell that did not run): whether papermill has the same is for the masked comparison.
  if (!meta) return undefined;
  if (meta.start_time == null && meta.end_time == null && meta.duration == null) return undefined;
  const start = micros(meta.start_time, PAPERMILL_TIME, `${where}.start_time`);
  if (typeof start === "string") problems.push(start);
  if (meta.end_time == null && meta.duration == null) return undefined;
  const end = micros(meta.end_time, PAPERMILL_TIME, `${where}.end_time`);
  if (typeof end === "string") problems.push(end);
  if (typeof meta.duration !== "number" || !Number.isFinite(meta.duration)) {
    problems.push(`${where}.duration: ${JSON.stringify(meta.duration)} is not a number of seconds`);
    return undefined;
  }
  if (meta.duration < 0) problems.push(`${where}.duration: ${meta.duration} is negative`);
  if (typeof start === "string" || typeof end === "string") return undefined;
  if (end < start) problems.push(`${where}: end_time ${String(meta.end_time)} is before start_time ${String(meta.start_time)}`);
  const seconds = Number(end - start) / 1e6;
  if (Math.abs(meta.duration - seconds) > DURATION_TOLERANCE) problems.push(`${where}.duration: ${meta.duration} s, but end_time − start_time is ${seconds} s`);
  return [start, end];
}

/**
 * What is wrong with the time values of an output notebook, checked against the shapes papermill
 * and nbclient write (the values themselves are masked by {@link maskVolatile}): empty when all hold.
 */
export function timeProblems(text: string): string[] {
  const notebook = JSON.parse(text.replace(/\bNaN\b|-?\bInfinity\b/g, "null")) as {
    metadata?: { papermill?: TimedMetadata };
    cells?: { cell_type?: string; metadata?: { papermill?: TimedMetadata; execution?: Record<string, unknown> } }[];
  };
  const problems: string[] = [];
  const whole = papermillTimes(notebook.metadata?.papermill, "metadata.papermill", problems);
  (notebook.cells ?? []).forEach((cell, index) => {
    const where = `cells[${index}].metadata`;
    const span = papermillTimes(cell.metadata?.papermill, `${where}.papermill`, problems);
    if (span && whole && (span[0] < whole[0] || span[1] > whole[1])) problems.push(`${where}.papermill: the cell's times are outside the notebook's`);
    const execution = cell.metadata?.execution;
    if (!execution) return;
    const at = new Map<string, bigint>();
    for (const [field, value] of Object.entries(execution)) {
      if (!(EXECUTION_FIELDS as readonly string[]).includes(field)) {
        problems.push(`${where}.execution: unexpected field ${field}`);
        continue;
      }
      const instant = micros(value, EXECUTION_TIME, `${where}.execution["${field}"]`);
      if (typeof instant === "string") problems.push(instant);
      else at.set(field, instant);
    }
    const order = (a: string, b: string) => {
      const first = at.get(a);
      const second = at.get(b);
      if (first !== undefined && second !== undefined && second < first) problems.push(`${where}.execution: ${b} is before ${a}`);
    };
    order("iopub.status.busy", "iopub.execute_input");
    order("iopub.execute_input", "shell.execute_reply");
    order("iopub.status.busy", "iopub.status.idle");
  });
  return problems;
}
