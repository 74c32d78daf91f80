/**
 * `capstan notebook run INPUT OUTPUT`: runs a parameterised notebook headless with papermill's
 * options and exit codes (0 done, 1 a cell failed, 138 the kernel died). Parses flags, calls
 * src/notebooks, prints; the progress bar shows on a terminal.
 */
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Command } from "commander";

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
  --log-output                    stream cell outputs to stdout/stderr as they arrive
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

Sources apply in this order whatever their order on the line (later wins): inject paths, -b, -f, -y, -p, -r.
INPUT and OUTPUT may hold {name} placeholders; "-" reads stdin / writes stdout.
Environment: CAPSTAN_PYTHON (its prefix holds kernelspecs), CAPSTAN_KERNEL_POOL_DIR (claim a warm kernel).
Exit codes: 0 success (also SystemExit(0)), 1 a cell failed or timed out, 138 the kernel died, 2 bad input.`;

/** A usage problem with the run command's arguments. */
class NotebookUsageError extends Error {
  override readonly name = "NotebookUsageError";
  readonly exitCode = 2;
}

const PAIR_FLAGS = new Map([
  ["-p", "values"],
  ["--parameters", "values"],
  ["-r", "raw"],
  ["--parameters_raw", "raw"],
  ["--parameters-raw", "raw"],
] as const);

interface RunArguments {
  input: string;
  output: string;
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
  const [input, output, extra] = parsed.positionals;
  if (input === undefined || output === undefined) {
    throw new NotebookUsageError("capstan notebook run needs INPUT and OUTPUT notebook paths (use - for stdin/stdout)");
  }
  if (extra !== undefined) {
    throw new NotebookUsageError(`unexpected argument '${extra}': give INPUT and OUTPUT only`);
  }
  return { input, output, ...pairs, flags: parsed.values };
}

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
  const notebooks = await import("../../notebooks/index.js");
  const logOutput = Boolean(flags["log-output"]) && !flags["no-log-output"];
  const wantsBar = flags["no-progress-bar"] ? false : flags["progress-bar"] ? true : process.stderr.isTTY && !logOutput;
  const transport = flags.transport ?? "ipc";
  if (transport !== "ipc" && transport !== "tcp") {
    throw new NotebookUsageError(`--transport must be ipc or tcp, got '${transport}'`);
  }
  if (flags.engine !== undefined && flags.engine !== "nbclient") {
    throw new NotebookUsageError(`--engine: only nbclient (papermill's default engine) is built in, got '${flags.engine}'`);
  }
  const logLevel = (flags["log-level"] ?? "INFO").toUpperCase();
  const levelRank = LOG_LEVELS.get(logLevel);
  if (levelRank === undefined) {
    throw new NotebookUsageError(`--log-level must be one of ${[...LOG_LEVELS.keys()].join(", ")}, got '${flags["log-level"] ?? ""}'`);
  }
  const autosave = flags["autosave-cell-every"];
  const autosaveSeconds = autosave === undefined ? undefined : Number(autosave);
  if (autosaveSeconds !== undefined && !(Number.isInteger(autosaveSeconds) && autosaveSeconds >= 0)) {
    throw new NotebookUsageError(`--autosave-cell-every takes a whole number of seconds (0 turns it off), got '${autosave ?? ""}'`);
  }

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
    args.input,
    args.output,
  );
  const streamFiles = { stdout: openStreamFile(flags["stdout-file"], "--stdout-file"), stderr: openStreamFile(flags["stderr-file"], "--stderr-file") };
  const bar = wantsBar && args.output !== "-" ? await progressBar() : undefined;
  let kernelPid: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    bar?.stop();
    if (kernelPid !== undefined) {
      try {
        process.kill(-kernelPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const quiet = args.output === "-";
  try {
    const result = await notebooks.runNotebook({
      inputPath: args.input,
      ...(args.input === "-" ? { inputText: readFileSync(0, "utf8") } : {}),
      outputPath: args.output,
      parameters,
      kernelName: flags.kernel,
      language: flags.language,
      cwd: flags.cwd,
      prepareOnly: Boolean(flags["prepare-only"]) && !flags["prepare-execute"],
      reportMode: Boolean(flags["report-mode"]) && !flags["no-report-mode"],
      executionTimeoutSeconds: seconds(flags["execution-timeout"], "--execution-timeout"),
      startTimeoutSeconds: seconds(flags["start-timeout"] ?? flags.start_timeout, "--start-timeout") ?? 60,
      transport,
      python: process.env["CAPSTAN_PYTHON"] || undefined,
      poolDir: process.env["CAPSTAN_KERNEL_POOL_DIR"] || undefined,
      ...(autosaveSeconds === undefined ? {} : { autosaveMs: autosaveSeconds * 1000 }),
      saveAfterCells: !flags["no-request-save-on-cell-execute"],
      logCellBoundaries: logOutput,
      events: {
        log: (level, message) => {
          if (!quiet && (level === "info" ? INFO : WARNING) >= levelRank) {
            bar?.clearLine();
            process.stderr.write(`${message}\n`);
          }
        },
        kernelReady: ({ pid }) => {
          kernelPid = pid;
        },
        cellStart: (_index, total) => bar?.start(total),
        cellComplete: () => bar?.increment(),
        ...(logOutput || streamFiles.stdout !== undefined || streamFiles.stderr !== undefined
          ? {
              output: (output) => {
                if (output.stream !== "data") {
                  const fd = streamFiles[output.stream];
                  if (fd !== undefined) writeSync(fd, output.text);
                }
                if (!logOutput) return;
                // With OUTPUT "-" stdout carries the notebook, so everything goes to stderr.
                const stream = output.stream === "stderr" || quiet ? process.stderr : process.stdout;
                stream.write(output.stream === "data" ? `${output.text}\n` : output.text);
              },
            }
          : {}),
      },
    }).catch((error: unknown) => {
      if (error instanceof notebooks.NotebookRunError) tellTaskWhyItFailed(error.message);
      throw error;
    });
    if (args.output === "-") {
      process.stdout.write(result.text);
    }
  } finally {
    for (const fd of [streamFiles.stdout, streamFiles.stderr]) if (fd !== undefined) closeSync(fd);
    bar?.stop();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

const INFO = 20;
const WARNING = 30;
/** papermill's --log-level choices, as Python's logging ranks them. */
const LOG_LEVELS = new Map([
  ["NOTSET", 0],
  ["DEBUG", 10],
  ["INFO", INFO],
  ["WARNING", WARNING],
  ["ERROR", 40],
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
