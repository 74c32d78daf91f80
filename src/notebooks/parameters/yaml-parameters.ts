/**
 * YAML parameters read as papermill reads them: PyYAML's SafeLoader (YAML 1.1: `yes` is true,
 * `1_000` is 1000, `0o`-less octal `010` is 8, `1:30` is 90) with dates left as strings. Ints and
 * floats stay apart (`1.0` is a float, `1e5` is a string, as PyYAML's resolver has it).
 */
import { parseDocument, type ScalarTag, type Tags } from "yaml";
import { ParameterError } from "../errors.js";
import { PyFloat, pyFloatJson } from "../values/py-float.js";
import { DictWithNonStringKeys, pyRepr, pyStr, type ParameterDict, type ParameterValue } from "./parameter-value.js";

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;

function toIntValue(big: bigint): number | bigint {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function constructInt(source: string): number | bigint {
  let value = source.replace(/_/g, "");
  let sign = 1n;
  if (value.startsWith("-")) {
    sign = -1n;
  }
  if (value.startsWith("-") || value.startsWith("+")) {
    value = value.slice(1);
  }
  if (value === "0") {
    return 0;
  }
  if (value.startsWith("0b")) {
    return toIntValue(sign * BigInt(`0b${value.slice(2)}`));
  }
  if (value.startsWith("0x")) {
    return toIntValue(sign * BigInt(`0x${value.slice(2)}`));
  }
  if (value.startsWith("0")) {
    return toIntValue(sign * BigInt(`0o${value.slice(1)}`));
  }
  if (value.includes(":")) {
    let total = 0n;
    for (const part of value.split(":")) {
      total = total * 60n + BigInt(part);
    }
    return toIntValue(sign * total);
  }
  return toIntValue(sign * BigInt(value));
}

function constructFloat(source: string): PyFloat {
  let value = source.replace(/_/g, "").toLowerCase();
  let sign = 1;
  if (value.startsWith("-")) {
    sign = -1;
  }
  if (value.startsWith("-") || value.startsWith("+")) {
    value = value.slice(1);
  }
  if (value === ".inf") {
    return new PyFloat(sign * Infinity);
  }
  if (value === ".nan") {
    return new PyFloat(Number.NaN);
  }
  if (value.includes(":")) {
    let total = 0;
    for (const part of value.split(":")) {
      total = total * 60 + Number(part);
    }
    return new PyFloat(sign * total);
  }
  return new PyFloat(sign * Number(value));
}

const pyYamlTags: ScalarTag[] = [
  { tag: "tag:yaml.org,2002:null", default: true, test: NULL, resolve: () => null, identify: (value) => value === null },
  { tag: "tag:yaml.org,2002:bool", default: true, test: BOOL, resolve: (text) => ["yes", "true", "on"].includes(text.toLowerCase()), identify: (value) => typeof value === "boolean" },
  { tag: "tag:yaml.org,2002:float", default: true, test: FLOAT, resolve: constructFloat, identify: (value) => value instanceof PyFloat },
  { tag: "tag:yaml.org,2002:int", default: true, test: INT, resolve: constructInt, identify: (value) => typeof value === "number" || typeof value === "bigint" },
];

// The same tags without a pattern, for explicit `!!float 1` style tags (PyYAML constructs those from any text).
const explicitTags: ScalarTag[] = pyYamlTags.map((scalar) => ({ ...scalar, test: undefined, default: false }));

const KEPT_TAGS = new Set(["tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str", "tag:yaml.org,2002:merge"]);

function customTags(defaults: Tags): Tags {
  const kept = defaults.filter((tag) => typeof tag === "object" && "tag" in tag && KEPT_TAGS.has(tag.tag));
  return [...kept, ...pyYamlTags, ...explicitTags];
}

function convert(value: unknown, origin: string): ParameterValue {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value === "string" || typeof value === "boolean" || typeof value === "number" || typeof value === "bigint" || value instanceof PyFloat) {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => convert(item, origin));
  }
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>)];
    if (entries.every(([key]) => typeof key === "string")) {
      return new Map(entries.map(([key, item]) => [key as string, convert(item, origin)]));
    }
    return dictWithNonStringKeys(entries, origin);
  }
  throw new ParameterError(origin, `unsupported YAML value of type ${Object.prototype.toString.call(value).slice(8, -1)}; use strings, numbers, booleans, null, lists and mappings`);
}

/** The number a Python scalar key equals (True == 1 == 1.0), or undefined for strings and None. */
function numericKey(key: ParameterValue): number | bigint | undefined {
  if (typeof key === "boolean") return key ? 1 : 0;
  if (typeof key === "number" || typeof key === "bigint") return key;
  if (key instanceof PyFloat) return key.value;
  return undefined;
}

/**
 * A mapping with keys other than strings, built as a Python dict is: keys that are equal in Python
 * (`1`, `true`, `1.0`) are one key, which keeps the first spelling and takes the last value.
 */
function dictWithNonStringKeys(entries: [unknown, unknown][], origin: string): DictWithNonStringKeys {
  const dict = new DictWithNonStringKeys();
  const byIdentity = new Map<string, string>();
  for (const [rawKey, rawItem] of entries) {
    const key = convert(rawKey, origin);
    const number = numericKey(key);
    const identity = typeof key === "string" ? `s:${key}` : key === null ? "none" : number !== undefined ? `n:${typeof number === "bigint" ? number.toString() : Number.isInteger(number) ? BigInt(number).toString() : String(number)}` : `o:${pyRepr(key)}`;
    const existing = byIdentity.get(identity);
    const item = convert(rawItem, origin);
    if (existing !== undefined) {
      dict.set(existing, item);
      continue;
    }
    const text = typeof key === "string" ? key : pyStr(key);
    byIdentity.set(identity, text);
    dict.set(text, item);
    if (typeof key !== "string") {
      const json = key === null ? "null" : typeof key === "boolean" ? (key ? "true" : "false") : key instanceof PyFloat ? pyFloatJson(key.value) : text;
      dict.nonStringKeys.set(text, { json, sortValue: number === undefined ? undefined : Number(number) });
    }
  }
  return dict;
}

/**
 * Loads YAML text as PyYAML's SafeLoader does (dates stay strings). `origin` names the source in
 * errors (`-y`, `-f params.yaml`, `-b`). Returns null for an empty document.
 */
export function loadYaml(text: string, origin: string): ParameterValue {
  const document = parseDocument(text, { version: "1.1", customTags, uniqueKeys: false, merge: true, prettyErrors: true });
  const first = document.errors[0];
  if (first) {
    const position = first.linePos?.[0];
    const where = position ? `${origin}:${position.line}:${position.col}` : origin;
    throw new ParameterError(where, `invalid YAML: ${first.message.split("\n")[0] ?? first.message}`, { cause: first });
  }
  return convert(document.toJS({ mapAsMap: true, maxAliasCount: -1 }), origin);
}

/** Loads YAML that must be a mapping of parameters (or empty). */
export function loadYamlParameters(text: string, origin: string): ParameterDict {
  const value = loadYaml(text, origin);
  if (value === null) {
    return new Map();
  }
  if (!(value instanceof Map)) {
    throw new ParameterError(origin, `parameters must be a YAML mapping of names to values, found ${Array.isArray(value) ? "a list" : `the scalar ${pyStr(value)}`}`);
  }
  return value;
}
