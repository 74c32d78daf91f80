/**
 * Gathers parameters from papermill's CLI sources, applied in papermill's fixed order whatever
 * their order on the command line (later wins): inject paths, `-b`, `-f`, `-y`, `-p`, `-r`.
 */
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { ParameterError } from "../errors.js";
import { isJsonObject, JsonParseError, parseJson, type JsonValue } from "../values/json-value.js";
import type { ParameterDict, ParameterValue } from "./parameter-value.js";
import { inferCliValue } from "./python-literal.js";

/** The parameter options of `capstan notebook run` (and of papermill). */
export interface ParameterSources {
  /** `--inject-input-path`: PAPERMILL_INPUT_PATH */
  injectInputPath?: boolean;
  /** `--inject-output-path`: PAPERMILL_OUTPUT_PATH */
  injectOutputPath?: boolean;
  /** `--inject-paths`: both */
  injectPaths?: boolean;
  /** `-b`: base64-encoded YAML */
  base64?: string[];
  /** `-f`: YAML files (a `.json` file is read as JSON) */
  files?: string[];
  /** `-y`: YAML text */
  yaml?: string[];
  /** `-p NAME VALUE`: values typed as papermill types them */
  values?: [string, string][];
  /** `-r NAME VALUE`: raw strings */
  raw?: [string, string][];
}

function jsonToParameter(value: JsonValue): ParameterValue {
  if (Array.isArray(value)) {
    return value.map((item) => jsonToParameter(item));
  }
  if (isJsonObject(value)) {
    return new Map(Object.entries(value).map(([key, item]) => [key, jsonToParameter(item)]));
  }
  return value;
}

async function loadYamlMapping(text: string, origin: string): Promise<ParameterDict> {
  const { loadYamlParameters } = await import("./yaml-parameters.js");
  return loadYamlParameters(text, origin);
}

async function loadFile(path: string): Promise<ParameterDict> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ParameterError(`-f ${path}`, `cannot read the parameters file: ${(error as Error).message}`, { cause: error });
  }
  if (extname(path).toLowerCase() !== ".json") {
    return loadYamlMapping(text, `-f ${path}`);
  }
  let value: JsonValue;
  try {
    value = parseJson(text);
  } catch (error) {
    const where = error instanceof JsonParseError ? `${path}:${error.problem.line}:${error.problem.column}` : path;
    throw new ParameterError(`-f ${where}`, `invalid JSON: ${error instanceof JsonParseError ? error.problem.message : String(error)}`, { cause: error });
  }
  if (value === null) {
    return new Map();
  }
  const parameters = jsonToParameter(value);
  if (!(parameters instanceof Map)) {
    throw new ParameterError(`-f ${path}`, "parameters must be a JSON object of names to values");
  }
  return parameters;
}

function merge(target: ParameterDict, source: ParameterDict): void {
  for (const [key, value] of source) {
    target.set(key, value);
  }
}

/** The parameters of a run, from all CLI sources in papermill's order. */
export async function collectParameters(sources: ParameterSources, inputPath: string, outputPath: string): Promise<ParameterDict> {
  const parameters: ParameterDict = new Map();
  if (sources.injectInputPath || sources.injectPaths) {
    parameters.set("PAPERMILL_INPUT_PATH", inputPath);
  }
  if (sources.injectOutputPath || sources.injectPaths) {
    parameters.set("PAPERMILL_OUTPUT_PATH", outputPath);
  }
  for (const encoded of sources.base64 ?? []) {
    merge(parameters, await loadYamlMapping(Buffer.from(encoded, "base64").toString("utf8"), "-b"));
  }
  for (const file of sources.files ?? []) {
    merge(parameters, await loadFile(file));
  }
  for (const text of sources.yaml ?? []) {
    merge(parameters, await loadYamlMapping(text, "-y"));
  }
  for (const [name, value] of sources.values ?? []) {
    parameters.set(name, inferCliValue(value));
  }
  for (const [name, value] of sources.raw ?? []) {
    parameters.set(name, value);
  }
  return parameters;
}
