/**
 * Injects parameters into a notebook as papermill does: the `injected-parameters` cell replaces an
 * earlier one, or follows the first `parameters` cell, or goes first with a warning.
 */
import { KernelNameMissingError } from "../errors.js";
import { findTaggedCell, newCodeCell, papermillMetadata, stringField, type Notebook } from "../nbformat/notebook.js";
import { isJsonObject } from "../values/json-value.js";
import { inspectPythonParameters } from "./inspect-parameters.js";
import { parameterToJson, type ParameterDict } from "./parameter-value.js";
import { supportsInspection, translateParameters } from "./translators.js";

/** Options of {@link parameterizeNotebook}. */
export interface ParameterizeOptions {
  /** `-k`: overrides `metadata.kernelspec.name` */
  kernelName?: string | undefined;
  /** `-l`: overrides `metadata.language_info.name` and `metadata.kernelspec.language` */
  language?: string | undefined;
  /** hide the injected cell's source */
  reportMode?: boolean;
  /** receives papermill's warnings (unknown parameter, no parameters cell) */
  warn?: (message: string) => void;
}

/** The kernel name: the override, else `metadata.kernelspec.name`. */
export function notebookKernelName(notebook: Notebook, override?: string): string {
  const kernelspec = notebook.metadata["kernelspec"];
  const name = override || (isJsonObject(kernelspec) ? stringField(kernelspec, "name") : undefined);
  if (!name) {
    throw new KernelNameMissingError("No kernel name found in notebook and no override provided. Pass -k NAME (for example -k python3) or set metadata.kernelspec.name");
  }
  return name;
}

/** The language: the override, else `metadata.language_info.name`, else `metadata.kernelspec.language`. */
export function notebookLanguage(notebook: Notebook, override?: string): string {
  const info = notebook.metadata["language_info"];
  const kernelspec = notebook.metadata["kernelspec"];
  const language =
    override ||
    (isJsonObject(info) ? stringField(info, "name") : undefined) ||
    (isJsonObject(kernelspec) ? stringField(kernelspec, "language") : undefined);
  if (!language) {
    throw new KernelNameMissingError("No language found in notebook and no override provided. Pass -l LANGUAGE (for example -l python)");
  }
  return language;
}

/** Injects `parameters` (a no-op for an empty dict) and records them in `metadata.papermill.parameters`. */
export function parameterizeNotebook(notebook: Notebook, parameters: ParameterDict, options: ParameterizeOptions = {}): void {
  if (parameters.size === 0) {
    return;
  }
  const warn = options.warn ?? (() => undefined);
  const parametersIndex = findTaggedCell(notebook, "parameters");
  let declared = new Set<string>();
  if (parametersIndex >= 0) {
    const kernelName = notebookKernelName(notebook, options.kernelName);
    const language = notebookLanguage(notebook, options.language);
    if (supportsInspection(kernelName, language)) {
      declared = new Set(inspectPythonParameters(notebook.cells[parametersIndex]?.source ?? "", warn));
    } else {
      warn(`Translator for '${language}' language does not support parameter introspection.`);
    }
  }
  for (const name of parameters.keys()) {
    if (!declared.has(name)) {
      warn(`Passed unknown parameter: ${name}`);
    }
  }
  const kernelName = notebookKernelName(notebook, options.kernelName);
  const language = notebookLanguage(notebook, options.language);
  const cell = newCodeCell(translateParameters(kernelName, language, parameters), { tags: ["injected-parameters"] });
  if (options.reportMode) {
    cell.metadata["jupyter"] = { source_hidden: true };
  }
  const injectedIndex = findTaggedCell(notebook, "injected-parameters");
  if (injectedIndex >= 0) {
    notebook.cells.splice(injectedIndex, 1, cell);
  } else if (parametersIndex >= 0) {
    notebook.cells.splice(parametersIndex + 1, 0, cell);
  } else {
    warn("Input notebook does not contain a cell with tag 'parameters'");
    notebook.cells.unshift(cell);
  }
  papermillMetadata(notebook)["parameters"] = parameterToJson(parameters);
}
