/**
 * `{name}` placeholders in input and output paths, filled from the parameters as papermill does
 * with Python's `str.format` (plus the built-in `pm` dict: run_uuid and the current datetimes).
 */
import { ParameterError } from "../errors.js";
import { pyStr, type ParameterDict, type ParameterValue } from "./parameter-value.js";

const FIELD = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;

function pyDatetime(date: Date, utc: boolean): string {
  const pad = (value: number, width = 2): string => String(value).padStart(width, "0");
  const parts = utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = parts;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}.${pad(date.getMilliseconds() * 1000, 6)}`;
}

/** The parameters a path may use: the given ones over papermill's built-in `pm`. */
export function pathParameters(parameters: ParameterDict, now = new Date()): ParameterDict {
  const builtin: ParameterDict = new Map<string, ParameterValue>([
    ["run_uuid", crypto.randomUUID()],
    ["current_datetime_local", pyDatetime(now, false)],
    ["current_datetime_utc", pyDatetime(now, true)],
  ]);
  return new Map<string, ParameterValue>([["pm", builtin], ...parameters]);
}

function lookup(field: string, parameters: ParameterDict, path: string): ParameterValue {
  const match = /^([^[.!:]*)((?:\[[^\]]*\])*)$/.exec(field);
  if (!match) {
    throw new ParameterError(path, `unsupported placeholder {${field}}: use {name} or {name[key]}`);
  }
  const name = match[1] ?? "";
  if (name === "" || /^\d+$/.test(name)) {
    throw new ParameterError(path, `positional placeholder {${field}} has no value: name a parameter, as in {alpha}`);
  }
  if (!parameters.has(name)) {
    throw new ParameterError(path, `Missing parameter '${name}': the path uses {${field}} but no parameter '${name}' was given`);
  }
  let value = parameters.get(name) ?? null;
  for (const [, key = ""] of (match[2] ?? "").matchAll(/\[([^\]]*)\]/g)) {
    if (value instanceof Map && value.has(key)) {
      value = value.get(key) ?? null;
    } else if (Array.isArray(value) && /^\d+$/.test(key) && Number(key) < value.length) {
      value = value[Number(key)] ?? null;
    } else {
      throw new ParameterError(path, `Missing parameter '${key}' in {${field}}`);
    }
  }
  return value;
}

/** Fills `{name}` placeholders of a path; `{{` and `}}` stand for braces. */
export function parameterizePath(path: string, parameters: ParameterDict): string {
  return path.replace(FIELD, (token, field: string | undefined) => {
    if (token === "{{") {
      return "{";
    }
    if (token === "}}") {
      return "}";
    }
    if (field === undefined) {
      throw new ParameterError(path, `single '${token}' in the path: write '${token}${token}' for a literal brace`);
    }
    return pyStr(lookup(field, parameters, path));
  });
}
