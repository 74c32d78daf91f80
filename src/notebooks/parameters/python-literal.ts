/**
 * Type inference for `-p NAME VALUE`, as papermill's CLI does it: exactly `True`, `False`, `None`;
 * then anything Python's `int()` accepts; then anything `float()` accepts; else the string.
 */
import { PyFloat } from "../values/py-float.js";
import type { ParameterValue } from "./parameter-value.js";

// Python's str.strip() whitespace.
const WS = "[\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PY_WHITESPACE = new RegExp(`^${WS}+|${WS}+$`, "gu");
const DIGIT = /\p{Nd}/u;
const INT = /^[+-]?\d+(?:_\d+)*$/;
const FLOAT = /^[+-]?(?:(?:\d+(?:_\d+)*)?\.\d+(?:_\d+)*|\d+(?:_\d+)*\.?)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/** Maps any Unicode decimal digit to its ASCII digit, as Python's int() and float() accept them. */
function asciiDigits(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code > 0x7f && DIGIT.test(char)) {
      // Unicode decimal digits come in runs of ten starting at zero.
      let start = code;
      while (start > 0 && DIGIT.test(String.fromCodePoint(start - 1))) {
        start -= 1;
      }
      out += String((code - start) % 10);
    } else {
      out += char;
    }
  }
  return out;
}

/** Python's `int(text)`, or undefined when it would raise. */
export function pyInt(text: string): number | bigint | undefined {
  const cleaned = asciiDigits(text.replace(PY_WHITESPACE, ""));
  if (!INT.test(cleaned)) {
    return undefined;
  }
  const big = BigInt(cleaned.replace(/_/g, ""));
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Python's `float(text)`, or undefined when it would raise. */
export function pyFloat(text: string): PyFloat | undefined {
  const cleaned = asciiDigits(text.replace(PY_WHITESPACE, ""));
  const special = SPECIAL_FLOAT.exec(cleaned);
  if (special) {
    const negative = special[1] === "-";
    if (special[2]?.toLowerCase() === "nan") {
      return new PyFloat(Number.NaN);
    }
    return new PyFloat(negative ? -Infinity : Infinity);
  }
  if (!FLOAT.test(cleaned)) {
    return undefined;
  }
  return new PyFloat(Number(cleaned.replace(/_/g, "")));
}

/** The value of `-p NAME VALUE` as papermill infers it. */
export function inferCliValue(text: string): ParameterValue {
  if (text === "True") {
    return true;
  }
  if (text === "False") {
    return false;
  }
  if (text === "None") {
    return null;
  }
  return pyInt(text) ?? pyFloat(text) ?? text;
}
