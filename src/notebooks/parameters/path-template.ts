/**
 * `{name}` placeholders in input and output paths, filled from the parameters as papermill does
 * with Python's `str.format` (plus the built-in `pm` dict: run_uuid and the current datetimes):
 * `{name[key]}`, conversions `!s`/`!r`/`!a` and format specs (`{n:03d}`, `{rate:.2f}`).
 */
import { ParameterError } from "../errors.js";
import { PyFloat } from "../values/py-float.js";
import { FormatSpecError, pyFormat, type FormatValue } from "../values/py-format.js";
import { pyRepr, pyStr, type ParameterDict, type ParameterValue } from "./parameter-value.js";

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

/** Python's `ascii()`: repr with every non-ASCII character escaped. */
function pyAscii(value: ParameterValue): string {
  return [...pyRepr(value)]
    .map((char) => {
      const code = char.codePointAt(0) ?? 0;
      if (code < 0x80) return char;
      if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
      if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, "0")}`;
      return `\\U${code.toString(16).padStart(8, "0")}`;
    })
    .join("");
}

/** The value as the format mini-language sees it. */
function formatValue(value: ParameterValue): FormatValue {
  if (value === null) return { kind: "other", text: "None", type: "NoneType" };
  if (typeof value === "boolean") return { kind: "bool", value };
  if (typeof value === "bigint") return { kind: "int", value };
  if (typeof value === "number") return Number.isInteger(value) ? { kind: "int", value: BigInt(value) } : { kind: "float", value };
  if (typeof value === "string") return { kind: "str", value };
  if (value instanceof PyFloat) return { kind: "float", value: value.value };
  return { kind: "other", text: pyRepr(value), type: Array.isArray(value) ? "list" : "dict" };
}

function lookup(field: string, parameters: ParameterDict, path: string): ParameterValue {
  const match = /^([^[.!:]*)((?:\[[^\]]*\])*)$/.exec(field);
  if (!match) {
    throw new ParameterError(path, `unsupported placeholder {${field}}: use {name}, {name[key]}, {name!r} or {name:spec}`);
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
    const [, name = "", conversion, spec] = /^([^!:]*)(?:!([^:]*))?(?::([\s\S]*))?$/.exec(field) ?? [];
    let value = lookup(name, parameters, path);
    if (conversion !== undefined) {
      if (conversion !== "r" && conversion !== "s" && conversion !== "a") {
        throw new ParameterError(path, `unknown conversion !${conversion} in {${field}}: use !s, !r or !a`);
      }
      value = conversion === "s" ? pyStr(value) : conversion === "r" ? pyRepr(value) : pyAscii(value);
    }
    try {
      return pyFormat(formatValue(value), spec ?? "");
    } catch (error) {
      if (error instanceof FormatSpecError) throw new ParameterError(path, `{${field}}: ${error.message}`, { cause: error });
      throw error;
    }
  });
}
