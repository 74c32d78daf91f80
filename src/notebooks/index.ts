/**
 * Notebook tasks: a papermill-compatible runner on a Jupyter kernel client of Capstan's own.
 * This is the folder's front door; everything else in src/notebooks is private.
 */
export { runNotebook, type NotebookRunEvents, type NotebookRunResult, type RunNotebookOptions } from "./runner/run-notebook.js";
export type { LiveOutput } from "./runner/output-tracker.js";
export { notebookHelp, notebookHelpForPath, type NotebookHelp } from "./parameters/notebook-help.js";
export { collectParameters, type ParameterSources } from "./parameters/parameter-sources.js";
export type { ParameterDict, ParameterValue } from "./parameters/parameter-value.js";
export { translateParameters, TRANSLATOR_KEYS } from "./parameters/translators.js";
export { KernelPool, KernelPoolBusyError, type KernelPoolOptions, type KernelPoolStatus } from "./pool/kernel-pool.js";
export { findKernelSpec, jupyterDataPaths, listKernelSpecs, type KernelSpec, type KernelSpecSearchOptions } from "./kernel/kernelspec.js";
export type { Transport } from "./kernel/connection-file.js";
export { parseNotebook, readNotebookFile } from "./nbformat/read-notebook.js";
export { serializeNotebook } from "./nbformat/write-notebook.js";
export type { CodeCell, Notebook, NotebookCell, NotebookOutput } from "./nbformat/notebook.js";
export { PyFloat } from "./values/py-float.js";
export type { JsonObject, JsonValue } from "./values/json-value.js";
export {
  CellExecutionError,
  CellTimeoutError,
  KernelDiedError,
  KernelNameMissingError,
  KernelNotFoundError,
  KernelReplyTimeoutError,
  KernelSpecError,
  KernelStartError,
  NotebookFormatError,
  NotebookLocationError,
  NotebookRunError,
  OutputNotWritableError,
  ParameterError,
  ParameterTranslationError,
  type FoundKernelSpec,
} from "./errors.js";
