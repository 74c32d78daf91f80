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
];
