/**
 * The errors of notebook runs. Each has a stable `name`, the fields a caller needs, and an
 * `exitCode` that `capstan notebook run` exits with (papermill's codes: 1 for a failed cell, 138
 * for a dead kernel).
 */

/** Base class: every notebook error carries the exit code of the CLI. */
export abstract class NotebookRunError extends Error {
  /** the process exit code for this failure */
  abstract readonly exitCode: number;
}

/** The input is not JSON, not a notebook, or a notebook version Capstan cannot read. */
export class NotebookFormatError extends NotebookRunError {
  override readonly name = "NotebookFormatError";
  readonly exitCode = 1;
  /** the file, with `:line:column` when known */
  readonly location: string;

  constructor(location: string, reason: string, options?: ErrorOptions) {
    super(`${location}: ${reason}`, options);
    this.location = location;
  }
}

/** A parameter could not be read (bad YAML, bad file) or a path placeholder has no value. */
export class ParameterError extends NotebookRunError {
  override readonly name = "ParameterError";
  readonly exitCode = 1;
  /** where the parameter came from: `-y`, `-f FILE`, `-b`, `output path`… */
  readonly origin: string;

  constructor(origin: string, reason: string, options?: ErrorOptions) {
    super(`${origin}: ${reason}`, options);
    this.origin = origin;
  }
}

/** A parameter value that the notebook's language cannot represent, or a language with no translator. */
export class ParameterTranslationError extends NotebookRunError {
  override readonly name = "ParameterTranslationError";
  readonly exitCode = 1;
  /** the parameter at fault; undefined when no translator exists at all */
  readonly parameter: string | undefined;
  /** the kernel and language the notebook runs with */
  readonly kernelName: string;
  readonly language: string;

  constructor(message: string, fields: { parameter?: string; kernelName: string; language: string }) {
    super(message);
    this.parameter = fields.parameter;
    this.kernelName = fields.kernelName;
    this.language = fields.language;
  }
}

/** No kernel name in the notebook and none given, or no language to pick a translator. */
export class KernelNameMissingError extends NotebookRunError {
  override readonly name = "KernelNameMissingError";
  readonly exitCode = 1;
}

/** One kernelspec found on the Jupyter data paths. */
export interface FoundKernelSpec {
  name: string;
  /** the directory holding its kernel.json */
  resourceDir: string;
}

/** The named kernelspec is not on any Jupyter data path. */
export class KernelNotFoundError extends NotebookRunError {
  override readonly name = "KernelNotFoundError";
  readonly exitCode = 1;
  readonly kernelName: string;
  readonly found: FoundKernelSpec[];
  readonly searched: string[];

  constructor(kernelName: string, found: FoundKernelSpec[], searched: string[]) {
    const list = found.length > 0 ? found.map((spec) => `${spec.name} (${spec.resourceDir})`).join(", ") : "none";
    super(
      `no kernel named '${kernelName}'; kernels found: ${list}; searched ${searched.map((dir) => `${dir}/kernels`).join(", ")}. ` +
        "Pass -k NAME with one of those, or register a kernelspec (python -m ipykernel install --sys-prefix)",
    );
    this.kernelName = kernelName;
    this.found = found;
    this.searched = searched;
  }
}

/** A kernelspec's kernel.json that cannot be used. */
export class KernelSpecError extends NotebookRunError {
  override readonly name = "KernelSpecError";
  readonly exitCode = 1;
  readonly file: string;

  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
    this.file = file;
  }
}

/** The kernel did not start, or did not answer kernel_info within the start timeout. */
export class KernelStartError extends NotebookRunError {
  override readonly name = "KernelStartError";
  readonly exitCode = 1;
  readonly kernelName: string;

  constructor(kernelName: string, reason: string, options?: ErrorOptions) {
    super(`kernel '${kernelName}' did not start: ${reason}`, options);
    this.kernelName = kernelName;
  }
}

/** The kernel process ended while the notebook still needed it. */
export class KernelDiedError extends NotebookRunError {
  override readonly name = "KernelDiedError";
  readonly exitCode = 138;
  /** index of the cell that was running, when one was */
  readonly cellIndex: number | undefined;
  /** the kernel's exit code or signal, when known */
  readonly exit: string;

  constructor(exit: string, cellIndex?: number) {
    super(`kernel died${cellIndex === undefined ? "" : ` while running cell ${cellIndex + 1} (index ${cellIndex})`}: ${exit}`);
    this.cellIndex = cellIndex;
    this.exit = exit;
  }
}

/** The kernel did not answer a request in time (the final kernel_info, a pool claim). */
export class KernelReplyTimeoutError extends NotebookRunError {
  override readonly name = "KernelReplyTimeoutError";
  readonly exitCode = 1;
  readonly request: string;

  constructor(request: string, timeoutMs: number) {
    super(`the kernel did not answer ${request} within ${Math.round(timeoutMs / 1000)} s; raise --execution-timeout if it is busy`);
    this.request = request;
  }
}

/** A cell raised an exception (the notebook is written with error markers first). */
export class CellExecutionError extends NotebookRunError {
  override readonly name = "CellExecutionError";
  readonly exitCode = 1;
  readonly cellIndex: number;
  readonly executionCount: number | null;
  readonly ename: string;
  readonly evalue: string;
  /** the traceback lines as the kernel sent them (may hold ANSI colours) */
  readonly traceback: string[];

  constructor(fields: { cellIndex: number; executionCount: number | null; ename: string; evalue: string; traceback: string[] }) {
    // eslint-disable-next-line no-control-regex
    const plain = fields.traceback.join("\n").replace(/\u001b\[[0-9;]*m/g, "");
    super(`exception in cell ${fields.cellIndex + 1} (In [${fields.executionCount ?? " "}]): ${fields.ename}: ${fields.evalue}\n${plain}`);
    this.cellIndex = fields.cellIndex;
    this.executionCount = fields.executionCount;
    this.ename = fields.ename;
    this.evalue = fields.evalue;
    this.traceback = fields.traceback;
  }
}

/** A cell ran longer than the execution timeout, or its output did not arrive in time. */
export class CellTimeoutError extends NotebookRunError {
  override readonly name = "CellTimeoutError";
  readonly exitCode = 1;
  readonly cellIndex: number;
  readonly timeoutSeconds: number;

  constructor(cellIndex: number, timeoutSeconds: number, reason: string) {
    super(`cell ${cellIndex + 1} (index ${cellIndex}) timed out after ${timeoutSeconds} seconds: ${reason}; raise --execution-timeout to allow more`);
    this.cellIndex = cellIndex;
    this.timeoutSeconds = timeoutSeconds;
  }
}

const WRITE_FAILURES: Record<string, string> = {
  ENOENT: "its directory does not exist",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  ENOSPC: "no space left on the device",
};

function describeWriteFailure(cause: unknown): string {
  const code = cause && typeof cause === "object" && "code" in cause ? String(cause.code) : "";
  return WRITE_FAILURES[code] ?? (cause instanceof Error ? cause.message : "not writable");
}

/** The output notebook cannot be written (checked before any cell runs). */
export class OutputNotWritableError extends NotebookRunError {
  override readonly name = "OutputNotWritableError";
  readonly exitCode = 1;
  readonly path: string;

  constructor(path: string, options?: ErrorOptions) {
    super(`cannot write the output notebook ${path}: ${describeWriteFailure(options?.cause)}; choose a path in a writable directory`, options);
    this.path = path;
  }
}

/** A notebook path in a scheme Capstan does not read or write (s3://, gs://, an http:// output…). */
export class NotebookLocationError extends NotebookRunError {
  override readonly name = "NotebookLocationError";
  readonly exitCode = 1;
  /** the path as given */
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.path = path;
  }
}
