/**
 * Python's format specification mini-language (`format(value, spec)`) for the values parameters
 * hold — ints, floats, strings, bools, None — so `{n:03d}` and `{r:.2f}` in a notebook path give
 * what papermill's `str.format` gives. Floats are rounded from their exact binary value, half to
 * even, as CPython does.
 */
import { pyFloatRepr } from "./py-float.js";

/** A format spec that does not apply to the value (Python's ValueError or TypeError). */
export class FormatSpecError extends Error {
  override readonly name = "FormatSpecError";
}

/** What a formatted value is, as Python sees it. */
export type FormatValue = { kind: "int"; value: bigint } | { kind: "float"; value: number } | { kind: "str"; value: string } | { kind: "bool"; value: boolean } | { kind: "other"; text: string; type: string };

interface Spec {
  fill: string;
  align: "<" | ">" | "=" | "^" | undefined;
  sign: "+" | "-" | " ";
  /** a sign option was written (strings refuse any) */
  signGiven: boolean;
  z: boolean;
  alternate: boolean;
  zero: boolean;
  width: number;
  grouping: "," | "_" | undefined;
  precision: number | undefined;
  type: string;
}

const SPEC = /^(?:(?<fill>[\s\S])?(?<align>[<>=^]))?(?<sign>[-+ ])?(?<z>z)?(?<alternate>#)?(?<zero>0)?(?<width>\d+)?(?<grouping>[,_])?(?:\.(?<precision>\d+))?(?<type>[bcdeEfFgGnosxX%])?$/u;

function parseSpec(text: string): Spec {
  const match = SPEC.exec(text);
  if (!match?.groups) throw new FormatSpecError(`Invalid format specifier '${text}'`);
  const groups = match.groups;
  return {
    fill: groups["fill"] ?? " ",
    align: groups["align"] as Spec["align"],
    sign: (groups["sign"] as Spec["sign"] | undefined) ?? "-",
    signGiven: groups["sign"] !== undefined,
    z: groups["z"] !== undefined,
    alternate: groups["alternate"] !== undefined,
    zero: groups["zero"] !== undefined,
    width: groups["width"] === undefined ? 0 : Number(groups["width"]),
    grouping: groups["grouping"] as Spec["grouping"],
    precision: groups["precision"] === undefined ? undefined : Number(groups["precision"]),
    type: groups["type"] ?? "",
  };
}

/** Python's `format(value, spec)`. */
export function pyFormat(value: FormatValue, specText: string): string {
  if (specText === "") return plainText(value);
  if (value.kind === "other") throw new FormatSpecError(`unsupported format string passed to ${value.type}.__format__`);
  const spec = parseSpec(specText);
  if (value.kind === "str") return formatString(value.value, spec);
  if (value.kind === "int" || value.kind === "bool") {
    const integer = value.kind === "int" ? value.value : value.value ? 1n : 0n;
    return spec.type !== "" && "eEfFgG%".includes(spec.type) ? formatFloat(Number(integer), spec) : formatInt(integer, spec, value.kind);
  }
  return formatFloat(value.value, spec);
}

function plainText(value: FormatValue): string {
  switch (value.kind) {
    case "int":
      return value.value.toString();
    case "float":
      return pyFloatRepr(value.value);
    case "str":
      return value.value;
    case "bool":
      return value.value ? "True" : "False";
    case "other":
      return value.text;
  }
}

function formatString(value: string, spec: Spec): string {
  if (spec.type !== "" && spec.type !== "s") throw new FormatSpecError(`Unknown format code '${spec.type}' for object of type 'str'`);
  if (spec.signGiven) throw new FormatSpecError("Sign not allowed in string format specifier");
  if (spec.alternate) throw new FormatSpecError("Alternate form (#) not allowed in string format specifier");
  if (spec.grouping) throw new FormatSpecError(`Cannot specify '${spec.grouping}' with 's'.`);
  if (spec.align === "=") throw new FormatSpecError("'=' alignment not allowed in string format specifier");
  const chars = [...value];
  const body = spec.precision === undefined ? value : chars.slice(0, spec.precision).join("");
  // A 0 flag fills with zeros on the right of a string (Python ≥ 3.10).
  return pad("", "", body, spec.zero && spec.align === undefined ? { ...spec, zero: false, fill: "0", align: "<" } : spec, "<");
}

/** Groups the digits of an integer part from the right. */
function group(digits: string, separator: string, size: number): string {
  let out = "";
  for (let end = digits.length; end > 0; end -= size) {
    const start = Math.max(0, end - size);
    out = out === "" ? digits.slice(start, end) : `${digits.slice(start, end)}${separator}${out}`;
  }
  return out;
}

function signOf(negative: boolean, spec: Spec): string {
  if (negative) return "-";
  return spec.sign === "+" ? "+" : spec.sign === " " ? " " : "";
}

/**
 * Puts sign, prefix and body together and pads to the width: `=` pads between sign and digits,
 * a `0` flag without an alignment means `=` with zeros (the zeros grouped too, as Python does).
 */
function pad(sign: string, prefix: string, body: string, spec: Spec, defaultAlign: "<" | ">", groupDigits?: (digits: string) => string): string {
  const zeroPad = spec.zero && spec.align === undefined;
  const align = spec.align ?? (zeroPad ? "=" : defaultAlign);
  const fill = spec.align === undefined && zeroPad ? "0" : spec.fill;
  const length = [...sign].length + prefix.length + [...body].length;
  const missing = Math.max(0, spec.width - length);
  if (missing === 0) return `${sign}${prefix}${body}`;
  if (align === "=") {
    if (fill === "0" && groupDigits) {
      // zeros join the integer part, so the grouping separators run through them
      const match = /^(\d*)(.*)$/su.exec(body);
      const integer = (match?.[1] ?? "").replace(/\D/g, "");
      const rest = match?.[2] ?? "";
      let digits = integer;
      let grouped = groupDigits(digits);
      while ([...sign].length + prefix.length + grouped.length + [...rest].length < spec.width) {
        digits = `0${digits}`;
        grouped = groupDigits(digits);
      }
      return `${sign}${prefix}${grouped.startsWith(",") || grouped.startsWith("_") ? `0${grouped}` : grouped}${rest}`;
    }
    return `${sign}${prefix}${fill.repeat(missing)}${body}`;
  }
  if (align === "<") return `${sign}${prefix}${body}${fill.repeat(missing)}`;
  if (align === ">") return `${fill.repeat(missing)}${sign}${prefix}${body}`;
  const left = Math.floor(missing / 2);
  return `${fill.repeat(left)}${sign}${prefix}${body}${fill.repeat(missing - left)}`;
}

function formatInt(value: bigint, spec: Spec, typeName: string): string {
  const type = spec.type === "" ? "d" : spec.type;
  if (spec.precision !== undefined) throw new FormatSpecError("Precision not allowed in integer format specifier");
  if (type === "s") throw new FormatSpecError(`Unknown format code 's' for object of type '${typeName}'`);
  if (type === "c") {
    if (spec.sign !== "-") throw new FormatSpecError("Sign not allowed with integer format specifier 'c'");
    if (value < 0n || value > 0x10ffffn) throw new FormatSpecError("%c arg not in range(0x110000)");
    return pad("", "", String.fromCodePoint(Number(value)), spec, "<");
  }
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const radix = { b: 2, o: 8, x: 16, X: 16, d: 10, n: 10 }[type as "d"];
  let digits = magnitude.toString(radix);
  if (type === "X") digits = digits.toUpperCase();
  const prefix = spec.alternate ? ({ b: "0b", o: "0o", x: "0x", X: "0X" }[type as "b"] ?? "") : "";
  if (spec.grouping === "," && radix !== 10) throw new FormatSpecError(`Cannot specify ',' with '${type}'.`);
  const size = radix === 10 ? 3 : 4;
  const grouper = spec.grouping ? (text: string): string => group(text, spec.grouping ?? ",", size) : undefined;
  return pad(signOf(negative, spec), prefix, grouper ? grouper(digits) : digits, spec, ">", grouper);
}

/** The exact decimal value of a finite double: |x| = digits × 10^exponent. */
function exactDecimal(x: number): { digits: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const power = (biased === 0 ? 1 : biased) - 1075;
  if (power >= 0) return { digits: mantissa << BigInt(power), exponent: 0 };
  return { digits: mantissa * 5n ** BigInt(-power), exponent: power };
}

/** Rounds digits × 10^exponent to a multiple of 10^at, half to even; returns the new digits (× 10^at). */
function roundAt(digits: bigint, exponent: number, at: number): bigint {
  if (at <= exponent) return digits * 10n ** BigInt(exponent - at);
  const divisor = 10n ** BigInt(at - exponent);
  const quotient = digits / divisor;
  const remainder = digits % divisor;
  const twice = remainder * 2n;
  if (twice > divisor || (twice === divisor && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

/** Decimal digits of |x| with `decimals` digits after the point. */
function fixed(x: number, decimals: number): string {
  const { digits, exponent } = exactDecimal(x);
  const rounded = roundAt(digits, exponent, -decimals).toString().padStart(decimals + 1, "0");
  return decimals === 0 ? rounded : `${rounded.slice(0, -decimals)}.${rounded.slice(-decimals)}`;
}

/** |x| rounded to `significant` digits: the digits and the decimal exponent of the first one. */
function significantDigits(x: number, significant: number): { digits: string; exponent: number } {
  if (x === 0) return { digits: "0".repeat(significant), exponent: 0 };
  const { digits, exponent } = exactDecimal(x);
  const length = digits.toString().length;
  let leading = exponent + length - 1;
  let rounded = roundAt(digits, exponent, leading - significant + 1).toString();
  if (rounded.length > significant) {
    leading += 1;
    rounded = rounded.slice(0, significant);
  }
  return { digits: rounded, exponent: leading };
}

function scientific(x: number, precision: number, alternate: boolean, upper: boolean): string {
  const { digits, exponent } = significantDigits(x, precision + 1);
  const mantissa = precision === 0 ? `${digits}${alternate ? "." : ""}` : `${digits.slice(0, 1)}.${digits.slice(1)}`;
  const text = `${mantissa}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  return upper ? text.toUpperCase() : text;
}

/** The 'g' rules; `noType` is the float's empty presentation type with a precision. */
function general(x: number, precision: number, alternate: boolean, upper: boolean, noType: boolean): string {
  const p = precision === 0 ? 1 : precision;
  const { exponent } = significantDigits(x, p);
  let text: string;
  // The empty type switches to scientific one exponent earlier than 'g' does.
  if (exponent >= -4 && exponent < (noType ? p - 1 : p)) {
    text = fixed(x, Math.max(0, p - 1 - exponent));
    if (!alternate && text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, noType ? ".0" : "");
    if (noType && !text.includes(".")) text = `${text}.0`;
    if (alternate && !text.includes(".")) text = `${text}.`;
  } else {
    text = scientific(x, p - 1, alternate, upper);
    if (!alternate) text = text.replace(/(\.\d*?)0+([eE])/, "$1$2").replace(/\.([eE])/, "$1");
  }
  return upper ? text.toUpperCase() : text;
}

function formatFloat(value: number, spec: Spec): string {
  const type = spec.type;
  if (type !== "" && "sbcdoxX".includes(type)) throw new FormatSpecError(`Unknown format code '${type}' for object of type 'float'`);
  if (spec.grouping && type === "n") throw new FormatSpecError(`Cannot specify '${spec.grouping}' with 'n'.`);
  const upper = type === "E" || type === "F" || type === "G";
  let negative = value < 0 || Object.is(value, -0);
  const magnitude = Math.abs(value);
  let body: string;
  if (Number.isNaN(value)) {
    negative = false;
    body = upper ? "NAN" : "nan";
  } else if (!Number.isFinite(type === "%" ? magnitude * 100 : magnitude)) {
    body = upper ? "INF" : "inf";
  } else if (type === "f" || type === "F" || type === "%") {
    body = fixed(type === "%" ? magnitude * 100 : magnitude, spec.precision ?? 6);
    if (spec.alternate && !body.includes(".")) body = `${body}.`;
  } else if (type === "e" || type === "E") {
    body = scientific(magnitude, spec.precision ?? 6, spec.alternate, upper);
  } else if (type === "g" || type === "G" || type === "n") {
    body = general(magnitude, spec.precision ?? 6, spec.alternate, upper, false);
  } else if (spec.precision === undefined) {
    body = pyFloatRepr(magnitude);
    if (spec.alternate) body = body.replace(/^(\d+)e/, "$1.e");
  } else {
    body = general(magnitude, spec.precision, spec.alternate, false, true);
  }
  if (type === "%") body = `${body}%`;
  if (spec.z && negative && /^[0.%]*$/.test(body.replace(/e[-+]\d+$/i, ""))) negative = false;
  // inf and nan are padded with plain zeros, never grouped
  const grouper = spec.grouping && /^\d/.test(body) ? (text: string): string => group(text, spec.grouping ?? ",", 3) : undefined;
  if (grouper) {
    const match = /^(\d+)(.*)$/su.exec(body);
    if (match) body = `${grouper(match[1] ?? "")}${match[2] ?? ""}`;
  }
  return pad(signOf(negative, spec), "", body, spec, ">", grouper);
}
