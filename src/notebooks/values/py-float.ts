/**
 * Python's float, kept apart from its int: notebooks and parameters must write `1.0` back as `1.0`,
 * and render floats exactly as Python's `repr` does (`1e-05`, `1e+16`, `0.1`).
 */

/** A float as Python holds it; plain JavaScript numbers in the notebook model are Python ints. */
export class PyFloat {
  /** @param value the IEEE double, NaN and infinities included */
  constructor(readonly value: number) {}
}

/** True for a value that is a Python float. */
export function isPyFloat(value: unknown): value is PyFloat {
  return value instanceof PyFloat;
}

/**
 * Python's `repr(float)`: the shortest digits that round-trip, fixed notation when the decimal
 * exponent is in [-4, 16), else scientific with at least two exponent digits.
 */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) {
    return "nan";
  }
  if (!Number.isFinite(value)) {
    return value < 0 ? "-inf" : "inf";
  }
  if (value === 0) {
    return Object.is(value, -0) ? "-0.0" : "0.0";
  }
  const sign = value < 0 ? "-" : "";
  const [mantissa = "0", exponentText = "0"] = Math.abs(value).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const decimalPoint = Number(exponentText) + 1;
  if (decimalPoint > -4 && decimalPoint <= 16) {
    if (decimalPoint <= 0) {
      return `${sign}0.${"0".repeat(-decimalPoint)}${digits}`;
    }
    if (decimalPoint >= digits.length) {
      return `${sign}${digits}${"0".repeat(decimalPoint - digits.length)}.0`;
    }
    return `${sign}${digits.slice(0, decimalPoint)}.${digits.slice(decimalPoint)}`;
  }
  const exponent = decimalPoint - 1;
  const rest = digits.slice(1);
  const exponentDigits = String(Math.abs(exponent)).padStart(2, "0");
  return `${sign}${digits[0] ?? "0"}${rest ? `.${rest}` : ""}e${exponent < 0 ? "-" : "+"}${exponentDigits}`;
}

/** A Python float as JSON writes it (`NaN`, `Infinity`, `-Infinity` for the non-finite ones). */
export function pyFloatJson(value: number): string {
  if (Number.isNaN(value)) {
    return "NaN";
  }
  if (!Number.isFinite(value)) {
    return value < 0 ? "-Infinity" : "Infinity";
  }
  return pyFloatRepr(value);
}
