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
