/**
 * Python's format mini-language against Python itself: each value and spec is formatted by the
 * venv's Python and by {@link pyFormat}; results (or the fact of an error) must be equal.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { assertPythonReady, python } from "../../../test/notebooks/support/paths.js";
import { FormatSpecError, pyFormat, type FormatValue } from "./py-format.js";

const ints = ["0", "7", "-7", "42", "1234567", "-1234567", "255", "123456789012345678901234567890"];
const floats = ["0.0", "-0.0", "1.0", "3.14159", "-2.5", "0.5", "1.5", "2.5", "0.125", "1e-05", "1e16", "123456.789", "0.0001234", "1e300", "float('inf')", "float('-inf')", "float('nan')", "99.995", "0.045", "1234.5678", "5e-324", "1.7976931348623157e308", "0.1", "2.675", "1.005", "9.9999", "999999.5", "1e-4", "0.00001"];
const strings = ["''", "'ab'", "'é☃😀'", "'hello world'"];
const specs = ["", "d", "03d", "5", "<5", ">5", "^7", "*^9", "=+8", "+", " ", "-", ",", "_", "010,", "08,d", "x", "#x", "X", "#X", "o", "#o", "b", "#b", "_b", "c", "n", "e", ".2e", "E", ".0e", "#.0e", "f", ".2f", ".0f", "#.0f", "F", "%", ".1%", "g", ".3g", "G", "#g", ".3", ".1", ".10", "10.3f", "+.2f", "z.1f", "012.3f", ",.2f", "s", ".2", ".2s", "<6s", "05", "=5", "+s", "#s", ",s", ".15g", ".17", ".0", ".0%", "_x", "#_b", ",d", "^+10.2f", "020.3e", "-^12,.1f", ".5", "#.3", "#", "0<8", "x<+8d"];

function pythonResults(values: string[]): (string | null)[] {
  const program = `
import json, sys
values = [${values.join(", ")}]
specs = json.loads(sys.argv[1])
out = []
for v in values:
    for s in specs:
        try:
            out.append(format(v, s))
        except (ValueError, TypeError, OverflowError):
            out.append(None)
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(python, ["-c", program, JSON.stringify(specs)], { encoding: "utf8" })) as (string | null)[];
}

function ours(value: FormatValue, spec: string): string | null {
  try {
    return pyFormat(value, spec);
  } catch (error) {
    if (error instanceof FormatSpecError) return null;
    throw error;
  }
}

function check(values: string[], toValue: (source: string) => FormatValue): void {
  const expected = pythonResults(values);
  const mismatches: string[] = [];
  let index = 0;
  for (const source of values) {
    for (const spec of specs) {
      const want = expected[index++];
      const got = ours(toValue(source), spec);
      if (got !== want) mismatches.push(`format(${source}, ${JSON.stringify(spec)}): python ${JSON.stringify(want)}, capstan ${JSON.stringify(got)}`);
    }
  }
  expect(mismatches).toEqual([]);
}

function floatOf(source: string): number {
  const inner = /^float\('(.*)'\)$/.exec(source)?.[1];
  if (inner === "inf") return Infinity;
  if (inner === "-inf") return -Infinity;
  if (inner === "nan") return Number.NaN;
  return Number(source);
}

describe("pyFormat matches Python's format()", () => {
  assertPythonReady();
  it("for ints", () => check(ints, (source) => ({ kind: "int", value: BigInt(source) })));
  it("for floats", () => check(floats, (source) => ({ kind: "float", value: floatOf(source) })));
  it("for strings", () => check(strings, (source) => ({ kind: "str", value: JSON.parse(`"${source.slice(1, -1)}"`) as string })));
  it("for bools", () => check(["True", "False"], (source) => ({ kind: "bool", value: source === "True" })));
  it("for None", () => check(["None"], () => ({ kind: "other", text: "None", type: "NoneType" })));
});
