/**
 * JSON as Python's `json` module reads and writes it: ints and floats stay apart (floats are
 * {@link PyFloat}), big ints stay exact (bigint), and output matches `json.dumps(indent=1,
 * sort_keys=True, separators=(",", ": "), ensure_ascii=False)` byte for byte.
 */
import { parse as parseLossless, isInteger } from "lossless-json";
import { PyFloat, pyFloatJson } from "./py-float.js";

/** A JSON value of the notebook model. Plain numbers are ints; floats are {@link PyFloat}. */
export type JsonValue = null | boolean | number | bigint | string | PyFloat | JsonValue[] | JsonObject;

/** A JSON object of the notebook model. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Where and why a JSON text failed to parse. */
export interface JsonSyntaxProblem {
  /** 1-based line */
  line: number;
  /** 1-based column */
  column: number;
  /** what the parser expected there */
  message: string;
}

const NUMBER_OR_STRING = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const MARK = "\u0000#num:";
const MARK_ESCAPED = "\\u0000#num:";

/**
 * Parses JSON text, keeping floats as {@link PyFloat} and ints beyond 2^53 as bigint.
 * Throws {@link JsonParseError} with a line and column on bad input.
 */
export function parseJson(text: string): JsonValue {
  if (!/\d[.eE]|\d{16}/.test(text)) {
    return parseNative(text, text, undefined);
  }
  if (text.includes(MARK_ESCAPED)) {
    return parseWithLossless(text);
  }
  // Floats and long ints are rewritten as marked strings, then revived: the native parser stays
  // fast on large outputs (images are megabytes of base64) while no digit is lost.
  const marked = text.replace(NUMBER_OR_STRING, (token) => {
    if (token.charCodeAt(0) === 34 || (!/[.eE]/.test(token) && token.length < 16)) {
      return token;
    }
    return `"${MARK_ESCAPED}${token}"`;
  });
  return parseNative(marked, text, reviveNumber);
}

function reviveNumber(_key: string, value: unknown): unknown {
  if (typeof value === "string" && value.startsWith(MARK)) {
    return numberFromToken(value.slice(MARK.length));
  }
  return value;
}

function numberFromToken(token: string): number | bigint | PyFloat {
  if (isInteger(token)) {
    const big = BigInt(token);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  return new PyFloat(Number(token));
}

function parseNative(text: string, original: string, reviver: ((key: string, value: unknown) => unknown) | undefined): JsonValue {
  try {
    return JSON.parse(text, reviver) as JsonValue;
  } catch {
    // The native message gives an offset into the rewritten text; the lossless parser reports
    // positions in the original and says what it expected.
    return parseWithLossless(original);
  }
}

function parseWithLossless(text: string): JsonValue {
  try {
    return parseLossless(text, null, (token: string) => numberFromToken(token)) as JsonValue;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(message);
    const offset = position?.[1] === undefined ? text.length : Number(position[1]);
    const { line, column } = lineAndColumn(text, offset);
    throw new JsonParseError({ line, column, message: message.replace(/ at position \d+/, "") }, { cause: error });
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf("\n"); index !== -1 && index < offset; index = text.indexOf("\n", index + 1)) {
    line += 1;
    lineStart = index + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** JSON text that could not be parsed. */
export class JsonParseError extends Error {
  override readonly name = "JsonParseError";
  /** where and what */
  readonly problem: JsonSyntaxProblem;

  constructor(problem: JsonSyntaxProblem, options?: ErrorOptions) {
    super(`line ${problem.line}, column ${problem.column}: ${problem.message}`, options);
    this.problem = problem;
  }
}

/** Compares strings by code point, as Python sorts `str`. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x !== y) {
      // Surrogates (0xD800-0xDFFF) code for points above every BMP char.
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) {
        return xs ? 1 : -1;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Objects whose keys Python sorts by another order than code points (dicts with number keys). */
const keyOrders = new WeakMap<object, (a: string, b: string) => number>();

/** Makes {@link sortedKeys} order this object's keys with `compare` (kept by {@link cloneJson}). */
export function sortKeysBy(object: JsonObject, compare: (a: string, b: string) => number): void {
  keyOrders.set(object, compare);
}

/** Sorted keys of an object, skipping undefined values. */
export function sortedKeys(object: Record<string, unknown>): string[] {
  return Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort(keyOrders.get(object) ?? compareCodePoints);
}

/** A string as a JSON literal, as Python writes it with ensure_ascii=False. */
export function jsonString(value: string): string {
  return JSON.stringify(value);
}

/** A scalar as JSON text; undefined for containers. */
function scalarJson(value: JsonValue): string | undefined {
  if (value === null) {
    return "null";
  }
  switch (typeof value) {
    case "string":
      return jsonString(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "number":
      if (Number.isInteger(value)) {
        return Math.abs(value) < 1e21 ? String(value) : BigInt(value).toString();
      }
      return pyFloatJson(value);
    default:
      return value instanceof PyFloat ? pyFloatJson(value.value) : undefined;
  }
}

/**
 * Writes a value as Python's `json.dumps(value, indent=1, sort_keys=True, separators=(",", ": "),
 * ensure_ascii=False)` does, starting at the given nesting depth.
 */
export function stringifyJson(value: JsonValue, depth = 0): string {
  const scalar = scalarJson(value);
  if (scalar !== undefined) {
    return scalar;
  }
  const inner = "\n" + " ".repeat(depth + 1);
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return "[]";
    }
    return `[${inner}${value.map((item) => stringifyJson(item, depth + 1)).join(`,${inner}`)}\n${" ".repeat(depth)}]`;
  }
  const object = value as JsonObject;
  const keys = sortedKeys(object);
  if (keys.length === 0) {
    return "{}";
  }
  const items = keys.map((key) => `${jsonString(key)}: ${stringifyJson(object[key] as JsonValue, depth + 1)}`);
  return `{${inner}${items.join(`,${inner}`)}\n${" ".repeat(depth)}}`;
}

/** True for a JSON object (not an array, not a float). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof PyFloat);
}

/** A deep copy of a JSON value. */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((item) => cloneJson(item)) as T;
  }
  if (isJsonObject(value)) {
    const copy: JsonObject = {};
    for (const key of Object.keys(value)) {
      copy[key] = cloneJson(value[key] as JsonValue);
    }
    const order = keyOrders.get(value);
    if (order) keyOrders.set(copy, order);
    return copy as T;
  }
  return value;
}
