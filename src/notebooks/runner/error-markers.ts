/**
 * papermill's error markers: the red markdown cells that point at the failing cell, and the rule
 * that picks the failure (the first error output, except SystemExit with value "" or "0").
 */
import { CellExecutionError } from "../errors.js";
import { cellTags, isCodeCell, newMarkdownCell, type Notebook } from "../nbformat/notebook.js";
import { isJsonObject } from "../values/json-value.js";

/** The tag of papermill's error marker cells. */
export const ERROR_MARKER_TAG = "papermill-error-cell-tag";
const ERROR_STYLE = 'style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;"';

/** Removes marker cells left by an earlier run; returns whether any was removed. */
export function removeErrorMarkers(notebook: Notebook): boolean {
  const before = notebook.cells.length;
  notebook.cells = notebook.cells.filter((cell) => !cellTags(cell).includes(ERROR_MARKER_TAG));
  return notebook.cells.length !== before;
}

/**
 * The error papermill raises after a run, or undefined: the last cell with an error output wins
 * over earlier ones, a cell marked failed without an error output stops the search.
 */
export function findExecutionError(notebook: Notebook): CellExecutionError | undefined {
  let error: CellExecutionError | undefined;
  for (const [index, cell] of notebook.cells.entries()) {
    let hasSystemExit = false;
    let found = false;
    if (isCodeCell(cell)) {
      for (const output of cell.outputs) {
        if (output.output_type !== "error") {
          continue;
        }
        if (output["ename"] === "SystemExit" && (output["evalue"] === "" || output["evalue"] === "0")) {
          hasSystemExit = true;
          continue;
        }
        error = new CellExecutionError({
          cellIndex: index,
          executionCount: cell.execution_count,
          ename: typeof output["ename"] === "string" ? output["ename"] : "",
          evalue: typeof output["evalue"] === "string" ? output["evalue"] : "",
          traceback: Array.isArray(output["traceback"]) ? output["traceback"].filter((line): line is string => typeof line === "string") : [],
        });
        found = true;
        break;
      }
    }
    const papermill = cell.metadata["papermill"];
    if (!found && error === undefined && !hasSystemExit && isJsonObject(papermill) && papermill["exception"] === true) {
      return new CellExecutionError({
        cellIndex: index,
        executionCount: isCodeCell(cell) ? cell.execution_count : null,
        ename: "CellExecutionError",
        evalue: "",
        traceback: [],
      });
    }
  }
  return error;
}

/** Inserts the two marker cells for a failure. */
export function insertErrorMarkers(notebook: Notebook, error: CellExecutionError): void {
  const message = newMarkdownCell(
    `<span ${ERROR_STYLE}>An Exception was encountered at '<a href="#papermill-error-cell">In [${error.executionCount ?? "None"}]</a>'.</span>`,
    { tags: [ERROR_MARKER_TAG] },
  );
  const anchor = newMarkdownCell(
    `<span id="papermill-error-cell" ${ERROR_STYLE}>Execution using papermill encountered an exception here and stopped:</span>`,
    { tags: [ERROR_MARKER_TAG] },
  );
  notebook.cells.splice(error.cellIndex, 0, anchor);
  notebook.cells.unshift(message);
}
