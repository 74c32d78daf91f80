/** Printing helpers shared by the commands: errors, tables and JSON. */
import Table from "cli-table3";

/** Prints an error for a human: its message, and the cause chain when there is one. */
export function printError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\n`);
  let cause = error instanceof Error ? error.cause : undefined;
  while (cause instanceof Error) {
    process.stderr.write(`  caused by: ${cause.message}\n`);
    cause = cause.cause;
  }
}

/** Prints one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as an aligned table without borders. */
export function printTable(head: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const table = new Table({
    head: [...head],
    chars: { top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "", left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  " },
    style: { head: process.stdout.isTTY ? ["bold"] : [], border: [], "padding-left": 0, "padding-right": 0 },
  });
  for (const row of rows) {
    table.push(row.map((cell) => (cell === null || cell === undefined ? "-" : (typeof cell === "object" ? JSON.stringify(cell) : String(cell as string | number | boolean)))));
  }
  process.stdout.write(`${table.toString()}\n`);
}
