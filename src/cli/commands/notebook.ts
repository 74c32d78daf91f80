/**
 * `capstan notebook run INPUT OUTPUT`: runs a parameterised notebook headless with papermill's
 * options and exit codes (0 done, 1 a cell failed, 138 the kernel died). Parses flags, calls
 * src/notebooks, prints; the progress bar shows on a terminal.
 */
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Command } from "commander";
import { capstanVersion } from "../../notebooks/version.js";
import { signalGroup } from "../../process-groups/index.js";
import { notebookVolumes } from "./notebook-volumes.js";

const HELP = `
Options (papermill's):
  -p, --parameters NAME VALUE     a parameter; VALUE typed as papermill types it (True, 1, 1.5, text)
  -r, --parameters_raw NAME VALUE a parameter kept as a string
  -f, --parameters_file FILE      YAML file of parameters (a .json file is read as JSON)
  -y, --parameters_yaml YAML      YAML text of parameters
  -b, --parameters_base64 B64     base64-encoded YAML of parameters
  -k, --kernel NAME               kernelspec to run (default: the notebook's)
  -l, --language LANG             language for the parameter translator (default: the notebook's)
  --cwd DIR                       working directory of the kernel
  --prepare-only                  parameterise and write the notebook without executing it
  --report-mode                   hide the source of code cells
  --log-output                    log cell outputs on stderr as they arrive (stdout and results at
                                  INFO, stderr at WARNING, as papermill's logger does)
  --progress-bar / --no-progress-bar   (default: on a terminal unless --log-output)
  --execution-timeout SECONDS     fail a cell that runs longer
  --start-timeout SECONDS         wait this long for the kernel to start (default 60)
  --inject-paths                  inject PAPERMILL_INPUT_PATH and PAPERMILL_OUTPUT_PATH
  --inject-input-path             inject PAPERMILL_INPUT_PATH
  --inject-output-path            inject PAPERMILL_OUTPUT_PATH
  --stdout-file FILE              write the cells' stdout streams to FILE
  --stderr-file FILE              write the cells' stderr streams to FILE
  --log-level LEVEL               NOTSET, DEBUG, INFO (default), WARNING, ERROR or CRITICAL
  --autosave-cell-every SECONDS   save the notebook this often during a long cell (0: not during cells;
                                  default 2, papermill's 30)
  --request-save-on-cell-execute / --no-request-save-on-cell-execute   save after each cell (default on)
  --engine nbclient               the only engine (papermill's default)
  --transport ipc|tcp             how to reach the kernel (default ipc: no port races)
  --help-notebook                 print the parameters inferred from the notebook's parameters cell
  --version                       print the version and exit

Sources apply in this order whatever their order on the line (later wins): inject paths, -b, -f, -y, -p, -r.
INPUT and OUTPUT may hold {name} or {name:format} placeholders (Python's format mini-language);
"-" reads stdin / writes stdout. A piped stdin is the input when one path is given (it is then
OUTPUT); with OUTPUT missing and stdout not a terminal, the notebook is written to stdout.
Environment: CAPSTAN_PYTHON (its prefix holds kernelspecs), CAPSTAN_KERNEL_POOL_DIR (claim a warm kernel).
Exit codes: 0 success (also SystemExit(0)), 1 a cell failed or timed out or the run could not start
(bad notebook, parameter, kernel or path), 138 the kernel died, 2 a usage error in the options.`;

/** A usage problem with the run command's arguments (papermill's click exits 2 for these). */
class NotebookUsageError extends Error {
  override readonly name = "NotebookUsageError";
  readonly exitCode = 2;
}

/** `--engine` names an engine that does not exist (papermill fails with exit 1, not a usage error). */
class UnknownEngineError extends Error {
  override readonly name = "UnknownEngineError";
  readonly exitCode = 1;
}

const PAIR_FLAGS = new Map([
  ["-p", "values"],
  ["--parameters", "values"],
  ["-r", "raw"],
  ["--parameters_raw", "raw"],
  ["--parameters-raw", "raw"],
] as const);

interface RunArguments {
  /** the positional paths as given (zero to two) */
  positionals: string[];
  values: [string, string][];
  raw: [string, string][];
  flags: ReturnType<typeof parseFlags>["values"];
}

function parseFlags(tokens: string[]) {
  return parseArgs({
    args: tokens,
    allowPositionals: true,
    strict: true,
    options: {
      parameters_file: { type: "string", short: "f", multiple: true },
      "parameters-file": { type: "string", multiple: true },
      parameters_yaml: { type: "string", short: "y", multiple: true },
      "parameters-yaml": { type: "string", multiple: true },
      parameters_base64: { type: "string", short: "b", multiple: true },
      "parameters-base64": { type: "string", multiple: true },
      kernel: { type: "string", short: "k" },
      language: { type: "string", short: "l" },
      cwd: { type: "string" },
      "prepare-only": { type: "boolean" },
      "prepare-execute": { type: "boolean" },
      "report-mode": { type: "boolean" },
      "no-report-mode": { type: "boolean" },
      "log-output": { type: "boolean" },
      "no-log-output": { type: "boolean" },
      "progress-bar": { type: "boolean" },
      "no-progress-bar": { type: "boolean" },
      "execution-timeout": { type: "string" },
      "start-timeout": { type: "string" },
      start_timeout: { type: "string" },
      "inject-paths": { type: "boolean" },
      "inject-input-path": { type: "boolean" },
      "inject-output-path": { type: "boolean" },
      transport: { type: "string" },
      "stdout-file": { type: "string" },
      "stderr-file": { type: "string" },
      "log-level": { type: "string" },
      "autosave-cell-every": { type: "string" },
      "request-save-on-cell-execute": { type: "boolean" },
      "no-request-save-on-cell-execute": { type: "boolean" },
      engine: { type: "string" },
      "help-notebook": { type: "boolean" },
      version: { type: "boolean" },
    },
  });
}

/** Splits papermill's two-value flags (-p NAME VALUE, -r NAME VALUE) off, then parses the rest. */
function parseRunArguments(tokens: string[]): RunArguments {
  const rest: string[] = [];
  const pairs = { values: [] as [string, string][], raw: [] as [string, string][] };
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] ?? "";
    if (token === "--") {
      rest.push(...tokens.slice(index));
      break;
    }
    const kind = PAIR_FLAGS.get(token as "-p");
    if (kind) {
      const name = tokens[index + 1];
      const value = tokens[index + 2];
      if (name === undefined || value === undefined) {
        throw new NotebookUsageError(`${token} takes two values, NAME and VALUE (as in ${token} alpha 0.5)`);
      }
      pairs[kind].push([name, value]);
      index += 2;
    } else {
      rest.push(token);
    }
  }
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(rest);
  } catch (error) {
    throw new NotebookUsageError(`${(error as Error).message}; see capstan notebook run --help`);
  }
  const extra = parsed.positionals[2];
  if (extra !== undefined) {
    throw new NotebookUsageError(`unexpected argument '${extra}': give INPUT and OUTPUT only`);
  }
  return { positionals: parsed.positionals, ...pairs, flags: parsed.values };
}

/** True when this process's stdin is a pipe (`cat in.ipynb | capstan notebook run …`). */
function stdinIsPipe(): boolean {
  try {
    return fstatSync(0).isFIFO();
  } catch {
    return false;
  }
}

/**
 * INPUT and OUTPUT as papermill resolves them: a piped stdin is the input when only one path is
 * given (it is then the output), and stdout is the output when OUTPUT is missing and stdout is not
 * a terminal — so `cat in.ipynb | capstan notebook run out.ipynb` and
 * `capstan notebook run in.ipynb | jq …` work as they do with papermill.
 */
function resolvePaths(positionals: string[], helpNotebook: boolean): { input: string; output: string } {
  const [first, second] = positionals;
  const inputPiped = stdinIsPipe();
  const outputPiped = !process.stdout.isTTY;
  if (first === undefined && !inputPiped) {
    throw new NotebookUsageError("Missing argument 'NOTEBOOK_PATH': capstan notebook run needs INPUT (a path, or - or a pipe for stdin)");
  }
  if (!helpNotebook && second === undefined && !(inputPiped || outputPiped)) {
    throw new NotebookUsageError("Missing argument 'OUTPUT_PATH': capstan notebook run needs OUTPUT (a path, or - for stdout)");
  }
  if (inputPiped && first !== undefined && second === undefined) {
    return { input: "-", output: first };
  }
  return { input: first ?? "-", output: second ?? "-" };
}

/** `--version`, in papermill's shape: the version, where it runs from, the runtime's version. */
function versionLine(): string {
  return `${capstanVersion().replace(/^capstan-/, "")} from ${fileURLToPath(import.meta.url)} (Node.js ${process.versions.node})`;
}

/** The usage line `--help-notebook` starts with, as papermill prints its own. */
const USAGE = "Usage: capstan notebook run [OPTIONS] NOTEBOOK_PATH [OUTPUT_PATH]";

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) {
    throw new NotebookUsageError(`${flag} takes a whole number of seconds, got '${value}'`);
  }
  return parsed > 0 ? parsed : undefined;
}

async function runCommand(tokens: string[]): Promise<void> {
  const args = parseRunArguments(tokens);
  const { flags } = args;
  if (flags.version) {
    process.stdout.write(`${versionLine()}\n`);
    return;
  }
  const helpNotebook = Boolean(flags["help-notebook"]);
  const { input, output } = resolvePaths(args.positionals, helpNotebook);
  const notebooks = await import("../../notebooks/index.js");
  const logOutput = Boolean(flags["log-output"]) && !flags["no-log-output"];
  const wantsBar = flags["no-progress-bar"] ? false : flags["progress-bar"] ? true : process.stderr.isTTY && !logOutput;
  const transport = flags.transport ?? "ipc";
  if (transport !== "ipc" && transport !== "tcp") {
    throw new NotebookUsageError(`--transport must be ipc or tcp, got '${transport}'`);
  }
  const logLevel = (flags["log-level"] ?? "INFO").toUpperCase();
  let levelRank = LOG_LEVELS.get(logLevel);
  if (levelRank === undefined) {
    throw new NotebookUsageError(`--log-level must be one of ${[...LOG_LEVELS.keys()].join(", ")}, got '${flags["log-level"] ?? ""}'`);
  }
  // As papermill: with the notebook on stdout, the default level drops to ERROR and the notebook is
  // written once, at the end.
  const toStdout = output === "-";
  if (toStdout && levelRank === INFO) levelRank = ERROR;
  const autosave = flags["autosave-cell-every"];
  const autosaveSeconds = autosave === undefined ? undefined : Number(autosave);
  if (autosaveSeconds !== undefined && !(Number.isInteger(autosaveSeconds) && autosaveSeconds >= 0)) {
    throw new NotebookUsageError(`--autosave-cell-every takes a whole number of seconds (0 turns it off), got '${autosave ?? ""}'`);
  }
  const executionTimeoutSeconds = seconds(flags["execution-timeout"], "--execution-timeout");
  const startTimeoutSeconds = seconds(flags["start-timeout"] ?? flags.start_timeout, "--start-timeout") ?? 60;
  const bar = wantsBar && !toStdout ? await progressBar() : undefined;
  /** papermill's logger: "%(message)s" lines on stderr, from --log-level up. */
  const logAt = (rank: number, message: string): void => {
    if (rank >= (levelRank ?? INFO)) {
      bar?.clearLine();
      process.stderr.write(`${message}\n`);
    }
  };
  const log = (level: "info" | "warning", message: string): void => logAt(level === "info" ? INFO : WARNING, message);

  const parameters = await notebooks.collectParameters(
    {
      injectPaths: flags["inject-paths"] ?? false,
      injectInputPath: flags["inject-input-path"] ?? false,
      injectOutputPath: flags["inject-output-path"] ?? false,
      base64: [...(flags.parameters_base64 ?? []), ...(flags["parameters-base64"] ?? [])],
      files: [...(flags.parameters_file ?? []), ...(flags["parameters-file"] ?? [])],
      yaml: [...(flags.parameters_yaml ?? []), ...(flags["parameters-yaml"] ?? [])],
      values: args.values,
      raw: args.raw,
    },
    input,
    output,
  );
  if (helpNotebook) {
    if (input === "-") {
      throw new NotebookUsageError("--help-notebook needs the notebook's path");
    }
    const help = await notebooks.notebookHelpForPath(input, parameters, USAGE, log);
    process.stdout.write(help.text);
    process.exitCode = help.exitCode;
    return;
  }
  const prepareOnly = Boolean(flags["prepare-only"]) && !flags["prepare-execute"];
  if (!prepareOnly && flags.engine !== undefined && flags.engine !== "nbclient") {
    throw new UnknownEngineError(`No engine named '${flags.engine}' found: the only engine is nbclient (papermill's default)`);
  }
  const streamFiles = { stdout: openStreamFile(flags["stdout-file"], "--stdout-file"), stderr: openStreamFile(flags["stderr-file"], "--stderr-file") };
  let kernelPid: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    bar?.stop();
    if (kernelPid !== undefined) signalGroup(kernelPid, "SIGKILL");
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const volumes = await notebookVolumes([input, output]);
  try {
    const result = await notebooks.runNotebook({
      volumes: volumes?.files,
      inputPath: input,
      ...(input === "-" ? { inputText: readFileSync(0, "utf8") } : {}),
      outputPath: output,
      parameters,
      kernelName: flags.kernel,
      language: flags.language,
      cwd: flags.cwd,
      prepareOnly,
      reportMode: Boolean(flags["report-mode"]) && !flags["no-report-mode"],
      executionTimeoutSeconds,
      startTimeoutSeconds,
      transport,
      python: process.env["CAPSTAN_PYTHON"] || undefined,
      poolDir: process.env["CAPSTAN_KERNEL_POOL_DIR"] || undefined,
      ...(autosaveSeconds === undefined ? {} : { autosaveMs: autosaveSeconds * 1000 }),
      saveAfterCells: !toStdout && !flags["no-request-save-on-cell-execute"],
      logCellBoundaries: logOutput,
      events: {
        log,
        kernelReady: ({ pid }) => {
          kernelPid = pid;
        },
        cellStart: (_index, total) => bar?.start(total),
        cellComplete: () => bar?.increment(),
        ...(logOutput || streamFiles.stdout !== undefined || streamFiles.stderr !== undefined
          ? {
              output: (cellOutput) => {
                if (cellOutput.stream !== "data") {
                  const fd = streamFiles[cellOutput.stream];
                  if (fd !== undefined) writeSync(fd, cellOutput.text);
                }
                // papermill logs cell outputs through its logger: stdout and results at INFO, stderr at WARNING.
                if (logOutput) logAt(cellOutput.stream === "stderr" ? WARNING : INFO, cellOutput.text);
              },
            }
          : {}),
      },
    }).catch((error: unknown) => {
      if (error instanceof notebooks.NotebookRunError) tellTaskWhyItFailed(error.message);
      throw error;
    });
    if (toStdout) {
      process.stdout.write(result.text);
    }
  } finally {
    await volumes?.close();
    for (const fd of [streamFiles.stdout, streamFiles.stderr]) if (fd !== undefined) closeSync(fd);
    bar?.stop();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

const INFO = 20;
const WARNING = 30;
const ERROR = 40;
/** papermill's --log-level choices, as Python's logging ranks them. */
const LOG_LEVELS = new Map([
  ["NOTSET", 0],
  ["DEBUG", 10],
  ["INFO", INFO],
  ["WARNING", WARNING],
  ["ERROR", ERROR],
  ["CRITICAL", 50],
]);

/** Opens (truncates) a --stdout-file / --stderr-file before anything runs. */
function openStreamFile(path: string | undefined, flag: string): number | undefined {
  if (path === undefined) return undefined;
  try {
    return openSync(path, "w");
  } catch (error) {
    throw new NotebookUsageError(`${flag} ${path}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * Run as a pipeline task, a failed run says why in $CAPSTAN_OUTPUT (as plain text, like a pod's
 * termination message), so the task's failure reason names the cell and the exception instead of
 * only the exit code. Outputs the notebook wrote before it failed are left as they are.
 */
function tellTaskWhyItFailed(message: string): void {
  const path = process.env["CAPSTAN_OUTPUT"];
  if (!path) return;
  try {
    const fd = openSync(path, "a");
    try {
      if (fstatSync(fd).size === 0) writeSync(fd, (message.split("\n", 1)[0] ?? "").slice(0, 1000));
    } finally {
      closeSync(fd);
    }
  } catch {
    // the reason stays the exit code
  }
}

interface Bar {
  start(total: number): void;
  increment(): void;
  clearLine(): void;
  stop(): void;
}

async function progressBar(): Promise<Bar> {
  const { SingleBar, Presets } = await import("cli-progress");
  const bar = new SingleBar({ format: "Executing {bar} {value}/{total} cells [{duration_formatted}]", stream: process.stderr, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 5000, hideCursor: true }, Presets.shades_classic);
  let started = false;
  return {
    start(total) {
      if (!started) {
        started = true;
        bar.start(total, 0);
      }
    },
    increment() {
      bar.increment();
    },
    clearLine() {
      if (started && process.stderr.isTTY) {
        process.stderr.write("\r\x1b[K");
      }
    },
    stop() {
      if (started) {
        started = false;
        bar.stop();
      }
    },
  };
}

/** Adds the notebook command group. */
export function registerNotebookCommands(program: Command): void {
  const notebook = program.command("notebook").description("run parameterised Jupyter notebooks headless");
  notebook
    .command("run")
    .description("execute INPUT notebook with parameters and write the executed notebook to OUTPUT (papermill-compatible)")
    .usage("[options] INPUT OUTPUT")
    .argument("[args...]")
    .allowUnknownOption()
    .helpOption("-h, --help")
    .addHelpText("after", HELP)
    .action(async (tokens: string[]) => {
      await runCommand(tokens);
    });
}
