/**
 * Parameter values as Python holds them after papermill reads `-p`, `-r`, `-y`, `-f` and `-b`:
 * ints (number, or bigint past 2^53), floats ({@link PyFloat}), strings, bools, None, lists and
 * insertion-ordered dicts (Map, so keys like "2024" keep their place as in Python).
 */
import { PyFloat, pyFloatRepr } from "../values/py-float.js";
import { sortKeysBy, type JsonObject, type JsonValue } from "../values/json-value.js";

/** One parameter value. */
export type ParameterValue = null | boolean | number | bigint | string | PyFloat | ParameterValue[] | ParameterDict;

/** A dict of parameters, in insertion order. */
export type ParameterDict = Map<string, ParameterValue>;

/** How a key that was not a string in YAML (`1`, `true`, `1.0`, `null`) is written as JSON and sorted. */
export interface NonStringKey {
  /** JSON's spelling of the key (`true`, `1.0`, `null`), where the code uses Python's `str()` */
  json: string;
  /** the number Python sorts it by (bools are 0 and 1); undefined for None */
  sortValue: number | undefined;
}

/**
 * A dict that had keys other than strings: the map's keys are their Python `str()` (what the
 * injected code writes); `nonStringKeys` keeps what `json.dumps` writes and sorts them by.
 */
export class DictWithNonStringKeys extends Map<string, ParameterValue> {
  readonly nonStringKeys = new Map<string, NonStringKey>();
}

/** Python's `str(value)` for a parameter value. */
export function pyStr(value: ParameterValue): string {
  if (typeof value === "string") {
    return value;
  }
  return pyRepr(value);
}

/** Python's `repr(value)` for a parameter value. */
export function pyRepr(value: ParameterValue): string {
  if (value === null) {
    return "None";
  }
  if (typeof value === "boolean") {
    return value ? "True" : "False";
  }
  if (typeof value === "number" || typeof value === "bigint") {
    return Number.isInteger(value) || typeof value === "bigint" ? BigInt(value).toString() : pyFloatRepr(value);
  }
  if (typeof value === "string") {
    return pyStringRepr(value);
  }
  if (value instanceof PyFloat) {
    return pyFloatRepr(value.value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => pyRepr(item)).join(", ")}]`;
  }
  return `{${[...value].map(([key, item]) => `${pyStringRepr(key)}: ${pyRepr(item)}`).join(", ")}}`;
}

function pyStringRepr(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (char === quote || char === "\\") {
      out += `\\${char}`;
    } else if (char === "\n") {
      out += "\\n";
    } else if (char === "\r") {
      out += "\\r";
    } else if (char === "\t") {
      out += "\\t";
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\x${code.toString(16).padStart(2, "0")}`;
    } else {
      out += char;
    }
  }
  return out + quote;
}

/** The value as notebook JSON (for `metadata.papermill.parameters`). */
export function parameterToJson(value: ParameterValue): JsonValue {
  if (Array.isArray(value)) {
    return value.map((item) => parameterToJson(item));
  }
  if (value instanceof DictWithNonStringKeys) {
    const object: JsonObject = {};
    const sortValues = new Map<string, number>();
    for (const [key, item] of value) {
      const nonString = value.nonStringKeys.get(key);
      const jsonKey = nonString?.json ?? key;
      object[jsonKey] = parameterToJson(item);
      if (nonString?.sortValue !== undefined) sortValues.set(jsonKey, nonString.sortValue);
    }
    // json.dumps(sort_keys=True) sorts numeric keys as numbers (9 before 10)
    if (sortValues.size === value.size) sortKeysBy(object, (a, b) => (sortValues.get(a) ?? 0) - (sortValues.get(b) ?? 0));
    return object;
  }
  if (value instanceof Map) {
    const object: JsonObject = {};
    for (const [key, item] of value) {
      object[key] = parameterToJson(item);
    }
    return object;
  }
  return value;
}
