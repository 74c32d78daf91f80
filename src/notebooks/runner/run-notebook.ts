/**
 * Runs a notebook as `papermill INPUT OUTPUT` does: load and upgrade, parameterize, record
 * papermill's notebook and cell metadata, execute cell by cell on a fresh kernel (claimed from
 * the warm pool when one is ready, else cold-started), mark errors, and write nbformat JSON.
 */
import { resolve } from "node:path";
import { KernelReplyTimeoutError } from "../errors.js";
import { startKernel, type KernelHandle } from "../kernel/kernel-handle.js";
import { findKernelSpec, type KernelSpec } from "../kernel/kernelspec.js";
import type { Transport } from "../kernel/connection-file.js";
import { isCodeCell, papermillMetadata, type Notebook } from "../nbformat/notebook.js";
import { remoteNotebookWriter, type VolumeFiles } from "../locations/notebook-location.js";
import { parseNotebook, readNotebookFile } from "../nbformat/read-notebook.js";
import { parameterizeNotebook, notebookKernelName } from "../parameters/parameterize.js";
import type { ParameterDict, ParameterValue } from "../parameters/parameter-value.js";
import { parameterizePath, pathParameters } from "../parameters/path-template.js";
import { claimPooledKernel } from "../pool/claim-kernel.js";
import { PyFloat } from "../values/py-float.js";
import { isJsonObject } from "../values/json-value.js";
import { capstanVersion } from "../version.js";
import { isoformat, nowMicros, secondsBetween, type Micros } from "./clock.js";
import { findExecutionError, insertErrorMarkers, removeErrorMarkers } from "./error-markers.js";
import { executeCodeCell } from "./execute-cell.js";
import { NotebookSaver } from "./notebook-saver.js";
import { OutputTracker, type LiveOutput } from "./output-tracker.js";

/** How long the final kernel_info (for language_info) may take at most. */
const FINAL_KERNEL_INFO_MS = 60_000;

/** What a run reports while it goes. All optional. */
export interface NotebookRunEvents {
  /** papermill's log lines ("Input Notebook: …", warnings) */
  log?: (level: "info" | "warning", message: string) => void;
  /** a cell (of `total`) starts */
  cellStart?: (index: number, total: number) => void;
  /** a cell is done */
  cellComplete?: (index: number, total: number) => void;
  /** outputs as they arrive (set for `--log-output`) */
  output?: (output: LiveOutput) => void;
  /** the kernel is ready: cold-started or claimed from the pool */
  kernelReady?: (info: { name: string; origin: "cold" | "pool"; pid: number }) => void;
}

/** Options of {@link runNotebook}. */
export interface RunNotebookOptions {
  /** the input notebook: a path, an http(s):// or s3:// URL, VOLUME:PATH, or "-" with `inputText`; may hold `{name}` placeholders */
  inputPath: string;
  /** the notebook text when it does not come from a file (stdin) */
  inputText?: string;
  /** the output notebook: a path, an s3:// URL or VOLUME:PATH ("-" keeps it in memory only); may hold `{name}` placeholders */
  outputPath: string;
  /** reaches VOLUME:PATH notebooks (the CLI's client); without it they are refused */
  volumes?: VolumeFiles | undefined;
  /** parameters, in injection order */
  parameters?: ParameterDict;
  /** `-k`: the kernelspec to use instead of the notebook's */
  kernelName?: string | undefined;
  /** `-l`: the language for the translator instead of the notebook's */
  language?: string | undefined;
  /** the kernel's working directory (default: this process's) */
  cwd?: string | undefined;
  /** parameterize and write without executing */
  prepareOnly?: boolean;
  /** hide the source of every code cell */
  reportMode?: boolean;
  /** seconds a cell may run (default: no limit) */
  executionTimeoutSeconds?: number | undefined;
  /** seconds to wait for the kernel to start (default 60) */
  startTimeoutSeconds?: number | undefined;
  /** "ipc" (default) or "tcp" */
  transport?: Transport;
  /** the environment the kernel inherits (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /** the Python whose prefix holds kernelspecs ($CAPSTAN_PYTHON) */
  python?: string | undefined;
  /** a warm pool's directory ($CAPSTAN_KERNEL_POOL_DIR): a ready kernel there is claimed */
  poolDir?: string | undefined;
  /** minimum time between saves of a large notebook */
  saveIntervalMs?: number;
  /** how often to save during a long cell (papermill's autosave_cell_every); 0: not during cells */
  autosaveMs?: number;
  /** save after each cell (papermill's request_save_on_cell_execute; default true) */
  saveAfterCells?: boolean;
  /** log "Executing Cell"/"Ending Cell" lines, as papermill's log_output does (default: when `events.output` is set) */
  logCellBoundaries?: boolean;
  events?: NotebookRunEvents;
}

/** The result of a run that did not throw. */
export interface NotebookRunResult {
  notebook: Notebook;
  /** the output notebook as written ("-" runs keep it here) */
  text: string;
  inputPath: string;
  outputPath: string;
  /** the kernel used; undefined with prepareOnly */
  kernel?: { name: string; origin: "cold" | "pool" };
  /** how many times the output file was written */
  saves: number;
}

function prepareForPapermill(notebook: Notebook): void {
  if (!isJsonObject(notebook.metadata["papermill"])) {
    notebook.metadata["papermill"] = { default_parameters: {}, environment_variables: {}, parameters: {}, version: capstanVersion() };
  }
  for (const cell of notebook.cells) {
    if (!("tags" in cell.metadata)) {
      cell.metadata["tags"] = [];
    }
    if (!("papermill" in cell.metadata)) {
      cell.metadata["papermill"] = {};
    }
  }
}

/** Runs a notebook. Throws the typed errors of ../errors.ts; a failed cell throws after writing. */
export async function runNotebook(options: RunNotebookOptions): Promise<NotebookRunResult> {
  const events = options.events ?? {};
  const log = (level: "info" | "warning", message: string): void => events.log?.(level, message);
  const parameters: ParameterDict = options.parameters ?? new Map<string, ParameterValue>();
  const forPaths = pathParameters(parameters);
  const inputPath = parameterizePath(options.inputPath, forPaths);
  const outputPath = parameterizePath(options.outputPath, forPaths);
  const places = { volumes: options.volumes, env: options.env };
  const writeRemote = remoteNotebookWriter(outputPath, places);
  log("info", `Input Notebook:  ${inputPath}`);
  log("info", `Output Notebook: ${outputPath}`);
  if (options.cwd !== undefined) {
    log("info", `Working directory: ${options.cwd}`);
  }
  const notebook = options.inputText !== undefined ? parseNotebook(options.inputText, inputPath) : await readNotebookFile(inputPath, places);
  prepareForPapermill(notebook);
  parameterizeNotebook(notebook, parameters, {
    kernelName: options.kernelName,
    language: options.language,
    reportMode: options.reportMode ?? false,
    warn: (message) => log("warning", message),
  });
  if (options.reportMode) {
    for (const cell of notebook.cells) {
      if (isCodeCell(cell)) {
        cell.metadata["jupyter"] = { source_hidden: true };
      }
    }
  }
  const notebookMeta = papermillMetadata(notebook);
  notebookMeta["input_path"] = inputPath;
  notebookMeta["output_path"] = outputPath;
  removeErrorMarkers(notebook);
  const saver = new NotebookSaver(notebook, {
    path: outputPath,
    ...(options.saveIntervalMs === undefined ? {} : { intervalMs: options.saveIntervalMs }),
    ...(options.autosaveMs === undefined ? {} : { autosaveMs: options.autosaveMs }),
    write: writeRemote,
  });
  if (options.prepareOnly) {
    await saver.save();
    return { notebook, text: saver.text(), inputPath, outputPath, saves: saver.saves };
  }
  const kernelName = notebookKernelName(notebook, options.kernelName);
  return execute(notebook, kernelName, saver, { ...options, inputPath, outputPath }, events);
}

async function acquireKernel(spec: KernelSpec, options: RunNotebookOptions, cwd: string, env: NodeJS.ProcessEnv): Promise<KernelHandle> {
  if (options.poolDir) {
    const claimed = await claimPooledKernel({ dir: options.poolDir, spec, cwd, env, python: options.python });
    if (claimed) {
      return claimed;
    }
  }
  return startKernel({
    spec,
    cwd,
    env,
    python: options.python,
    transport: options.transport ?? "ipc",
    startTimeoutSeconds: options.startTimeoutSeconds ?? 60,
  });
}

/** papermill's NotebookExecutionManager: notebook and cell metadata through the run. */
class ExecutionRecord {
  private readonly cellStarts = new Map<number, Micros>();
  private start: Micros = 0;

  constructor(private readonly notebook: Notebook, private readonly saver: NotebookSaver) {}

  notebookStart(): void {
    this.start = nowMicros();
    const meta = papermillMetadata(this.notebook);
    meta["start_time"] = isoformat(this.start);
    meta["end_time"] = null;
    meta["duration"] = null;
    meta["exception"] = null;
    for (const cell of this.notebook.cells) {
      if (isCodeCell(cell)) {
        cell.execution_count = null;
        cell.outputs = [];
      }
      cell.metadata["papermill"] = { duration: null, end_time: null, exception: null, start_time: null, status: "pending" };
    }
    this.saver.changedAll();
  }

  cellStart(index: number): void {
    const cell = this.notebook.cells[index];
    if (!cell) {
      return;
    }
    const now = nowMicros();
    this.cellStarts.set(index, now);
    const meta = papermillMetadata(cell);
    meta["start_time"] = isoformat(now);
    meta["status"] = "running";
    meta["exception"] = false;
    this.saver.changed(cell);
  }

  cellException(index: number): void {
    const cell = this.notebook.cells[index];
    if (!cell) {
      return;
    }
    const meta = papermillMetadata(cell);
    meta["exception"] = true;
    meta["status"] = "failed";
    papermillMetadata(this.notebook)["exception"] = true;
    this.saver.changed(cell);
  }

  cellComplete(index: number): void {
    const cell = this.notebook.cells[index];
    if (!cell) {
      return;
    }
    const now = nowMicros();
    const meta = papermillMetadata(cell);
    meta["end_time"] = isoformat(now);
    const started = this.cellStarts.get(index);
    if (started !== undefined) {
      meta["duration"] = new PyFloat(secondsBetween(started, now));
    }
    if (meta["status"] !== "failed") {
      meta["status"] = "completed";
    }
    this.saver.changed(cell);
  }

  notebookComplete(): void {
    const end = nowMicros();
    const meta = papermillMetadata(this.notebook);
    meta["end_time"] = isoformat(end);
    meta["duration"] = new PyFloat(secondsBetween(this.start, end));
    for (const cell of this.notebook.cells) {
      const cellMeta = papermillMetadata(cell);
      if (cellMeta["status"] === "failed") {
        break;
      }
      if (cellMeta["status"] === "pending") {
        cellMeta["status"] = "completed";
        this.saver.changed(cell);
      }
    }
  }
}

/**
 * Executes the parameterised notebook. As papermill, the output is written once before the kernel
 * is looked up and started, so a kernel that cannot be found or started still leaves the
 * parameterised notebook (with its start and end times) behind.
 */
async function execute(notebook: Notebook, kernelName: string, saver: NotebookSaver, options: RunNotebookOptions & { inputPath: string; outputPath: string }, events: NotebookRunEvents): Promise<NotebookRunResult> {
  const record = new ExecutionRecord(notebook, saver);
  record.notebookStart();
  await saver.save();
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const total = notebook.cells.length;
  const logCellBoundaries = options.logCellBoundaries ?? events.output !== undefined;
  let kernel: KernelHandle | undefined;
  let spec: KernelSpec | undefined;
  let interrupted: Error | undefined;
  const tracker = new OutputTracker(
    notebook,
    (cell) => saver.changed(cell),
    events.output,
    (message) => events.log?.("warning", message),
  );
  try {
    spec = await findKernelSpec(kernelName, { env, python: options.python });
    kernel = await acquireKernel(spec, options, cwd, env);
    events.kernelReady?.({ name: spec.name, origin: kernel.origin, pid: kernel.process.pid });
    events.log?.("info", `Executing notebook with kernel: ${kernelName}`);
    for (const [index, cell] of notebook.cells.entries()) {
      events.cellStart?.(index, total);
      if (logCellBoundaries) {
        events.log?.("info", `Executing Cell ${String(index + 1).padEnd(40, "-")}`);
      }
      record.cellStart(index);
      let failed = false;
      try {
        if (isCodeCell(cell) && cell.source.trim() !== "" && !(Array.isArray(cell.metadata["tags"]) && cell.metadata["tags"].includes("skip-execution"))) {
          failed = (await executeCodeCell({ kernel, tracker, saver, executionTimeoutSeconds: options.executionTimeoutSeconds }, cell, index)) === "error";
        }
        if (failed) {
          record.cellException(index);
        }
      } finally {
        if (logCellBoundaries) {
          events.log?.("info", `Ending Cell ${String(index + 1).padEnd(43, "-")}`);
        }
        record.cellComplete(index);
        events.cellComplete?.(index, total);
        if (options.saveAfterCells !== false) await saver.saveAfterCell();
      }
      if (failed) {
        break;
      }
    }
    // papermill can hang here (its issue #711); a kernel that does not answer within the limit only
    // costs the notebook its language_info.
    const timeoutMs = Math.min(FINAL_KERNEL_INFO_MS, (options.executionTimeoutSeconds ?? Infinity) * 1000);
    try {
      const info = await kernel.kernelInfo(timeoutMs);
      const languageInfo = info.content["language_info"];
      if (languageInfo !== undefined) {
        notebook.metadata["language_info"] = languageInfo;
      }
    } catch (error) {
      if (!(error instanceof KernelReplyTimeoutError)) {
        throw error;
      }
      events.log?.("warning", `${error.message}; the notebook keeps its previous language_info`);
    }
    tracker.writeWidgetMetadata();
  } catch (error) {
    interrupted = error instanceof Error ? error : new Error(String(error));
  }
  record.notebookComplete();
  const finalSave = saver.save();
  const shutdown = kernel?.shutdown({ detachAfterReply: kernel.origin === "pool" });
  try {
    await finalSave;
  } finally {
    await shutdown;
  }
  if (interrupted !== undefined) {
    throw interrupted;
  }
  const failure = findExecutionError(notebook);
  if (failure) {
    insertErrorMarkers(notebook, failure);
    saver.changedAll();
    await saver.save();
    throw failure;
  }
  return {
    notebook,
    text: saver.text(),
    inputPath: options.inputPath,
    outputPath: options.outputPath,
    kernel: { name: spec?.name ?? kernelName, origin: kernel?.origin ?? "cold" },
    saves: saver.saves,
  };
}

