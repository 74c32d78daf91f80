/**
 * `--help-notebook`: what papermill prints about a notebook's parameters, inferred from its cell
 * tagged `parameters` (names, types from annotations or `# type:` comments, defaults, help from
 * the trailing comment), in papermill's layout and with its exit status.
 */
import { findTaggedCell, type Notebook } from "../nbformat/notebook.js";
import { readNotebookFile } from "../nbformat/read-notebook.js";
import type { ParameterDict } from "./parameter-value.js";
import { parameterizePath, pathParameters } from "./path-template.js";
import { inspectPythonParameterCell } from "./inspect-parameters.js";
import { notebookKernelName, notebookLanguage } from "./parameterize.js";
import { supportsInspection } from "./translators.js";

/** The help text and the exit status papermill gives with it. */
export interface NotebookHelp {
  text: string;
  /** 0, or 1 when the notebook has no cell tagged `parameters` */
  exitCode: number;
}

/** Where the help column starts, as papermill lays it out. */
const HELP_COLUMN = 34;

/**
 * The help for `notebook`, shown as `shownPath`. `usage` is the command's usage line; `warn`
 * receives papermill's warnings (a line it cannot parse, a language it cannot inspect).
 */
export function notebookHelp(notebook: Notebook, shownPath: string, usage: string, warn: (message: string) => void): NotebookHelp {
  const lines = [usage, "", `Parameters inferred for notebook '${shownPath}':`];
  const index = findTaggedCell(notebook, "parameters");
  if (index < 0) {
    lines.push("", "  No cell tagged 'parameters'");
    return { text: `${lines.join("\n")}\n`, exitCode: 1 };
  }
  const language = notebookLanguage(notebook);
  let parameters: ReturnType<typeof inspectPythonParameterCell> = [];
  if (supportsInspection(notebookKernelName(notebook), language)) {
    parameters = inspectPythonParameterCell(notebook.cells[index]?.source ?? "", warn);
  } else {
    warn(`Translator for '${language}' language does not support parameter introspection.`);
  }
  if (parameters.length === 0) {
    lines.push("", "  Can't infer anything about this notebook's parameters. It may not have any parameter defined.");
  }
  for (const parameter of parameters) {
    const type = parameter.inferredTypeName === "None" ? "Unknown type" : parameter.inferredTypeName;
    const definition = `  ${parameter.name}: ${type} (default ${parameter.default})`;
    // Widths in code points, as Python counts them.
    const width = [...definition].length;
    if (width > 30) {
      lines.push(parameter.help.length > 0 ? `${definition}\n${" ".repeat(HELP_COLUMN)}${parameter.help}` : definition);
    } else {
      lines.push(`${definition}${" ".repeat(HELP_COLUMN - width)}${parameter.help}`);
    }
  }
  return { text: `${lines.join("\n")}\n`, exitCode: 0 };
}

/**
 * The help for the notebook at `inputPath` (which may hold `{name}` placeholders filled from
 * `parameters`), logging "Input Notebook:" as papermill does before it reads the file.
 */
export async function notebookHelpForPath(inputPath: string, parameters: ParameterDict, usage: string, log: (level: "info" | "warning", message: string) => void): Promise<NotebookHelp> {
  const path = parameterizePath(inputPath, pathParameters(parameters));
  log("info", `Input Notebook:  ${path}`);
  const notebook = await readNotebookFile(path);
  return notebookHelp(notebook, inputPath, usage, (message) => log("warning", message));
}
