/** `-p` values and YAML parameters get the types papermill gives them (expected values produced by papermill 2.6 and PyYAML). */
import { describe, expect, it } from "vitest";
import { ParameterError } from "../errors.js";
import { PyFloat } from "../values/py-float.js";
import { pyRepr, type ParameterValue } from "./parameter-value.js";
import { inferCliValue } from "./python-literal.js";
import { loadYaml, loadYamlParameters } from "./yaml-parameters.js";

function pyTypeName(value: ParameterValue): string {
  if (value === null) {
    return "NoneType";
  }
  if (value instanceof PyFloat) {
    return "float";
  }
  if (Array.isArray(value)) {
    return "list";
  }
  if (value instanceof Map) {
    return "dict";
  }
  return { string: "str", boolean: "bool", number: "int", bigint: "int" }[typeof value as "string"];
}

const cliCases: [string, string, string][] = [
  ["True", "bool", "True"],
  ["False", "bool", "False"],
  ["None", "NoneType", "None"],
  ["true", "str", "'true'"],
  ["42", "int", "42"],
  [" 42 ", "int", "42"],
  ["+5", "int", "5"],
  ["-0", "int", "0"],
  ["1_000", "int", "1000"],
  ["007", "int", "7"],
  ["1__0", "str", "'1__0'"],
  ["0x10", "str", "'0x10'"],
  ["1.0", "float", "1.0"],
  ["3.", "float", "3.0"],
  [".5", "float", "0.5"],
  ["1e5", "float", "100000.0"],
  ["1E-05", "float", "1e-05"],
  ["inf", "float", "inf"],
  ["-Infinity", "float", "-inf"],
  ["nan", "float", "nan"],
  ["NaN", "float", "nan"],
  ["1_0.5", "float", "10.5"],
  ["12345678901234567890", "int", "12345678901234567890"],
  ["\u0661\u0662\u0663", "int", "123"],
  ["abc", "str", "'abc'"],
  ["", "str", "''"],
  ["1e", "str", "'1e'"],
  ["1.5e+3", "float", "1500.0"],
];

const yamlCases: [string, string, string][] = [
  ["a: yes", "bool", "True"],
  ["a: Off", "bool", "False"],
  ["a: ~", "NoneType", "None"],
  ["a:", "NoneType", "None"],
  ["a: 2024-01-31", "str", "'2024-01-31'"],
  ["a: 010", "int", "8"],
  ["a: 0o10", "str", "'0o10'"],
  ["a: 0x1F", "int", "31"],
  ["a: 0b101", "int", "5"],
  ["a: 1_000", "int", "1000"],
  ["a: 1:30", "int", "90"],
  ["a: 1:30.5", "float", "90.5"],
  ["a: 1e5", "str", "'1e5'"],
  ["a: 1.0e+5", "float", "100000.0"],
  ["a: 1.0e5", "str", "'1.0e5'"],
  ["a: .5", "float", "0.5"],
  ["a: -.inf", "float", "-inf"],
  ["a: .NaN", "float", "nan"],
  ["a: '1.0'", "str", "'1.0'"],
  ["a: !!float 1", "float", "1.0"],
  ["a: [1, {b: 2}]", "list", "[1, {'b': 2}]"],
  ["a: 12345678901234567890", "int", "12345678901234567890"],
  ["a: 09", "str", "'09'"],
  ["a: +1", "int", "1"],
  ["a: -1.5", "float", "-1.5"],
];

describe("inferCliValue (-p NAME VALUE)", () => {
  for (const [text, type, repr] of cliCases) {
    it(`reads ${JSON.stringify(text)} as the ${type} ${repr}`, () => {
      const value = inferCliValue(text);
      expect(pyTypeName(value)).toBe(type);
      expect(pyRepr(value)).toBe(repr);
    });
  }
});

describe("loadYaml (PyYAML SafeLoader, dates as strings)", () => {
  for (const [text, type, repr] of yamlCases) {
    it(`reads ${JSON.stringify(text)} as the ${type} ${repr}`, () => {
      const value = loadYamlParameters(text, "-y").get("a") ?? null;
      expect(pyTypeName(value)).toBe(type);
      expect(pyRepr(value)).toBe(repr);
    });
  }

  it("keeps the file order of mapping keys, numeric-looking ones too", () => {
    const value = loadYaml("z: 1\n'2024': 2\na: 3\n", "-y");
    expect(value instanceof Map ? [...value.keys()] : []).toEqual(["z", "2024", "a"]);
  });

  it("lets a later duplicate key win and follows merge keys", () => {
    const value = loadYamlParameters("base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\nk: 1\nk: 2\n", "-y");
    expect(pyRepr(value.get("d") ?? null)).toBe("{'x': 1, 'y': 2}");
    expect(value.get("k")).toBe(2);
  });

  it("reports bad YAML with its line and column", () => {
    expect(() => loadYamlParameters("a: [1, 2\nb: 3", "-f params.yaml")).toThrow(ParameterError);
    expect(() => loadYamlParameters("a: [1, 2\nb: 3", "-f params.yaml")).toThrow(/^-f params\.yaml:\d+:\d+: invalid YAML/);
  });

  it("refuses parameters that are not a mapping", () => {
    expect(() => loadYamlParameters("- a\n- b\n", "-y")).toThrow(/parameters must be a YAML mapping of names to values, found a list/);
  });
});
