/**
 * The conformance corpus: each notebook under corpus/ with the arguments it runs with. Every case
 * runs under papermill and under `capstan notebook run`; outputs and exit codes must match.
 */

/** One conformance case. */
export interface ConformanceCase {
  /** the notebook's file name in corpus/, without .ipynb */
  notebook: string;
  /** what the case covers */
  covers: string;
  /** arguments after INPUT OUTPUT, the same for both runners */
  args: string[];
  /** other corpus files the case needs beside the notebook */
  files?: string[];
  /** the notebook predates nbformat 4.5: every cell id is random */
  allIdsRandom?: boolean;
  /** the case's name when a notebook serves more than one case (default: the notebook's) */
  name?: string;
  /** files the run writes beside the output notebook, which must be equal byte for byte */
  sideFiles?: string[];
  /**
   * A shell command line run instead of `RUNNER input.ipynb output.ipynb ARGS --no-progress-bar`
   * (for pipes, odd output names, runs without paths): `$RUN` is the runner, `$HTTP` the URL of a
   * server that serves the corpus, `$S3_BUCKET` a bucket of a real S3 server holding the corpus
   * (AWS_* variables set for both runners), `$S3_TAKE_PYTHON` the venv's Python and `$S3_TAKE` a script
   * that moves an object to a local file.
   */
  shell?: string;
  /** the output notebook's file name (default output.ipynb); null: the run must write none */
  output?: string | null;
  /** streams whose text must be equal too (after {@link maskStreams}) */
  streams?: ("stdout" | "stderr")[];
  /** the run starts no kernel (it fails before, or only prints) */
  noKernel?: boolean;
}

/** The cases, in the order they run. */
export const conformanceCases: ConformanceCase[] = [
  { notebook: "parameters-cell", covers: "injection after the parameters cell", args: ["-p", "alpha", "0.5", "-p", "name", "world", "-p", "count", "3"] },
  { notebook: "no-parameters-cell", covers: "injection at the top when no cell is tagged parameters", args: ["-p", "x", "42"] },
  { notebook: "replace-injected", covers: "an earlier injected-parameters cell is replaced", args: ["-p", "x", "7"] },
  {
    notebook: "parameter-types",
    covers: "unicode, nested dict/list, floats (1.0, 1e-05, inf, nan), bool, None, YAML 1.1 types",
    files: ["parameter-types.yaml"],
    args: [
      "-f", "parameter-types.yaml",
      "-y", "p_yaml_neg_inf: -.inf\np_yaml_list: [a, 1, 1.0]\np_underscore: 2_000",
      "-p", "p_float_one", "1.0",
      "-p", "p_float_small", "1e-05",
      "-p", "p_float_big", "1e16",
      "-p", "p_inf", "inf",
      "-p", "p_nan", "nan",
      "-p", "p_true", "True",
      "-p", "p_none", "None",
      "-p", "p_int_spaces", " 42 ",
      "-p", "p_int_leading_zero", "007",
      "-p", "p_big", "123456789012345678901234567890",
      "-p", "p_trailing_dot", "3.",
      "-p", "p_unicode", 'é☃😀 "quote" \\back\ttab',
      "-r", "p_raw", "1.0",
    ],
  },
  { notebook: "error-middle", covers: "an error in the middle stops the run and adds the error markers", args: [] },
  { notebook: "sysexit-zero", covers: "SystemExit(0) stops the run and exits 0", args: [] },
  { notebook: "sysexit-one", covers: "SystemExit(1) fails the run", args: [] },
  { notebook: "raises-exception", covers: "a raises-exception cell continues the run (and papermill still reports it)", args: [] },
  { notebook: "skip-execution", covers: "skip-execution cells are not run", args: [] },
  { notebook: "empty-cells", covers: "empty and blank code cells are not run", args: [] },
  { notebook: "markdown-between", covers: "markdown and raw cells between code cells", args: [] },
  { notebook: "report-mode", covers: "--report-mode hides code", args: ["--report-mode", "-p", "threshold", "0.9"] },
  { notebook: "prepare-only", covers: "--prepare-only parameterises without running", args: ["--prepare-only", "-p", "day", "2024-06-30"] },
  { notebook: "streams", covers: "stdout and stderr streams, results, unicode, carriage returns", args: [] },
  {
    name: "stream-files",
    notebook: "streams",
    covers: "--stdout-file and --stderr-file get the cells' streams; --log-level, --autosave-cell-every, --no-request-save-on-cell-execute, --engine",
    args: ["--stdout-file", "out.txt", "--stderr-file", "err.txt", "--log-level", "WARNING", "--autosave-cell-every", "0", "--no-request-save-on-cell-execute", "--engine", "nbclient"],
    sideFiles: ["out.txt", "err.txt"],
  },
  { notebook: "display-png", covers: "display_data with image/png, HTML, JSON, display updates, clear_output", args: [] },
  { notebook: "execution-timeout", covers: "a cell that exceeds --execution-timeout", args: ["--execution-timeout", "5"] },
  { notebook: "kernel-dies", covers: "a kernel that dies (os._exit) exits 138", args: [] },
  { notebook: "old-minor", covers: "nbformat 4.2 without ids is upgraded", args: ["-p", "n", "5"], allIdsRandom: true },
  { notebook: "nbformat-v3", covers: "nbformat 3 is converted", args: [], allIdsRandom: true },
  { notebook: "inject-paths", covers: "--inject-paths and -b base64 YAML", args: ["--inject-paths", "-b", Buffer.from("b64: from base64\n").toString("base64")] },
  { notebook: "kernel-python", covers: "a kernelspec named python is jupyter_client's python3", args: ["-p", "alpha", "0.5"] },
  { name: "kernel-flag-python", notebook: "parameters-cell", covers: "-k python", args: ["-k", "python"] },
  { name: "stdin-to-file", notebook: "parameters-cell", covers: "cat in.ipynb | RUN out.ipynb: a piped stdin is the input", args: [], shell: "cat input.ipynb | $RUN output.ipynb -p count 2 --no-progress-bar" },
  { name: "stdin-to-stdout", notebook: "parameters-cell", covers: "cat in.ipynb | RUN > out.ipynb: pipe in, stdout out", args: [], shell: "cat input.ipynb | $RUN -p count 2 --no-progress-bar > output.ipynb" },
  { name: "file-to-stdout-pipe", notebook: "streams", covers: "RUN in.ipynb | …: OUTPUT missing and stdout a pipe", args: [], shell: "$RUN input.ipynb --no-progress-bar | cat > output.ipynb" },
  { name: "log-output", notebook: "streams", covers: "--log-output logs cell output on stderr through the logger", args: ["--log-output"], streams: ["stdout", "stderr"] },
  { name: "log-output-warning", notebook: "streams", covers: "--log-output at --log-level WARNING keeps only stderr streams", args: ["--log-output", "--log-level", "WARNING"], streams: ["stdout", "stderr"] },
  {
    name: "path-format",
    notebook: "parameters-cell",
    covers: "format specs and conversions in output-path placeholders",
    args: [],
    shell: "$RUN input.ipynb 'output_{count:03d}_{alpha:.2f}_{name:>5}_{name!r}_{alpha:+.1e}.ipynb' -p count 7 -p alpha 3.14159 -p name ab --no-progress-bar",
    output: "output_007_3.14_   ab_'ab'_+3.1e+00.ipynb",
  },
  { notebook: "no-kernelspec", covers: "no kernel name: exit 1 before anything is written", args: [], output: null, noKernel: true },
  { name: "unknown-kernel", notebook: "parameters-cell", covers: "an unknown kernel: the parameterised notebook is written, then exit 1", args: ["-k", "no-such-kernel", "-p", "alpha", "0.5"], noKernel: true },
  { name: "unknown-engine", notebook: "parameters-cell", covers: "an unknown engine: exit 1, nothing written", args: ["--engine", "no-such-engine"], output: null, noKernel: true },
  { name: "missing-path-parameter", notebook: "parameters-cell", covers: "a path placeholder without a parameter: exit 1, nothing written", args: [], shell: "$RUN input.ipynb 'output_{missing}.ipynb' --no-progress-bar", output: null, noKernel: true },
  { name: "version", notebook: "parameters-cell", covers: "--version", args: [], shell: "$RUN --version", output: null, streams: ["stdout"], noKernel: true },
  { notebook: "help-notebook", covers: "--help-notebook: names, types, defaults and help from the parameters cell", args: [], shell: "$RUN input.ipynb --help-notebook -p x 1", output: null, streams: ["stdout", "stderr"], noKernel: true },
  { name: "help-notebook-none", notebook: "no-parameters-cell", covers: "--help-notebook without a parameters cell exits 1", args: [], shell: "$RUN input.ipynb --help-notebook", output: null, streams: ["stdout"], noKernel: true },
  {
    name: "yaml-equal-keys",
    notebook: "parameters-cell",
    covers: "YAML keys equal in Python (1, true, 1.0) are one key; JSON spells and sorts them as Python does",
    args: ["-y", "d: {1: a, true: b, 1.0: c, 2: x, 0: z, false: w, 0.0: v}\ne: {true: 1, 1: 2}\nf: {10: a, 9: b, 2.5: c}\ng: {null: 1}"],
  },
  { name: "http-input", notebook: "parameters-cell", covers: "an http:// input notebook", args: [], shell: "$RUN $HTTP/parameters-cell.ipynb output.ipynb -p alpha 0.25 --no-progress-bar" },
  { name: "s3-input", notebook: "parameters-cell", covers: "an s3:// input notebook", args: [], shell: "$RUN s3://$S3_BUCKET/parameters-cell.ipynb output.ipynb -p alpha 0.75 --no-progress-bar" },
  {
    name: "s3-output",
    notebook: "parameters-cell",
    covers: "an s3:// output notebook",
    args: [],
    shell: '$RUN input.ipynb s3://$S3_BUCKET/runs/output.ipynb -p count 2 --no-progress-bar; code=$?; "$S3_TAKE_PYTHON" "$S3_TAKE" s3://$S3_BUCKET/runs/output.ipynb output.ipynb; exit $code',
  },
  { name: "s3-missing", notebook: "parameters-cell", covers: "an s3:// input that does not exist", args: [], output: null, noKernel: true, shell: "$RUN s3://$S3_BUCKET/missing.ipynb output.ipynb --no-progress-bar" },
];
