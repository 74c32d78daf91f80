/** JSON is read and written as Python's json module does (expected texts produced by Python 3.11). */
import { describe, expect, it } from "vitest";
import { JsonParseError, parseJson, stringifyJson, type JsonValue } from "./json-value.js";
import { PyFloat, pyFloatRepr } from "./py-float.js";

const reprs: [number, string][] = [
  [1.0, "1.0"],
  [0.1, "0.1"],
  [1e-5, "1e-05"],
  [1e16, "1e+16"],
  [1e15, "1000000000000000.0"],
  [123456789.123, "123456789.123"],
  [1.5e-7, "1.5e-07"],
  [-0.0, "-0.0"],
  [2.5e300, "2.5e+300"],
  [5e-324, "5e-324"],
  [0.0001, "0.0001"],
  [100.0, "100.0"],
  [1 / 3, "0.3333333333333333"],
];

describe("pyFloatRepr", () => {
  for (const [value, repr] of reprs) {
    it(`writes ${value} as Python's repr does: ${repr}`, () => {
      expect(pyFloatRepr(value)).toBe(repr);
    });
  }
});

describe("parseJson", () => {
  it("keeps floats apart from ints, and big ints exact", () => {
    const value = parseJson('{"f": 1.0, "i": 1, "e": 1e5, "big": 123456789012345678901234567890, "s": "1.5 in a string"}') as Record<string, JsonValue>;
    expect(value["f"]).toEqual(new PyFloat(1));
    expect(value["i"]).toBe(1);
    expect(value["e"]).toEqual(new PyFloat(100000));
    expect(value["big"]).toBe(123456789012345678901234567890n);
    expect(value["s"]).toBe("1.5 in a string");
  });

  it("reports the line and column of a syntax error and what was expected", () => {
    let caught: unknown;
    try {
      parseJson('{\n "a": 1,\n "b": }');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(JsonParseError);
    expect((caught as JsonParseError).problem).toMatchObject({ line: 3, column: 7 });
    expect((caught as JsonParseError).message).toMatch(/^line 3, column 7: .*value expected/);
  });
});

describe("stringifyJson", () => {
  it("writes json.dumps(indent=1, sort_keys=True, ensure_ascii=False) byte for byte", () => {
    const value: JsonValue = { b: [new PyFloat(1), 2, { z: null, a: new PyFloat(Number.NaN) }], a: "é\n\u0001", e: [], d: {} };
    expect(stringifyJson(value)).toBe('{\n "a": "é\\n\\u0001",\n "b": [\n  1.0,\n  2,\n  {\n   "a": NaN,\n   "z": null\n  }\n ],\n "d": {},\n "e": []\n}');
  });

  it("round-trips numbers through parse and stringify", () => {
    const text = '[\n 1.0,\n 1e-05,\n 1e+16,\n 123456789012345678901234567890,\n -0.0,\n Infinity\n]';
    expect(stringifyJson(parseJson(text.replace("Infinity", "1e999")))).toBe(text);
  });

  it("sorts keys by code point as Python does", () => {
    expect(stringifyJson({ "\u{1F600}": 1, "\uFFFF": 2, B: 3, a: 4 })).toBe('{\n "B": 3,\n "a": 4,\n "\uFFFF": 2,\n "\u{1F600}": 1\n}');
  });
});
