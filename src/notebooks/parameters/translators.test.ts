/** The translators render parameters exactly as papermill 2.6's do (expected texts produced by papermill). */
import { describe, expect, it } from "vitest";
import { ParameterTranslationError } from "../errors.js";
import { PyFloat } from "../values/py-float.js";
import type { ParameterDict, ParameterValue } from "./parameter-value.js";
import { shellQuote, translateParameters, unicodeEscape } from "./translators.js";

function sample(): ParameterDict {
  return new Map<string, ParameterValue>([
    ["s", 'é"q\\\n'],
    ["i", 3],
    ["big", 2 ** 40],
    ["f", new PyFloat(1)],
    ["small", new PyFloat(1e-5)],
    ["inf", new PyFloat(Infinity)],
    ["nan", new PyFloat(Number.NaN)],
    ["b", true],
    ["n", null],
    ["l", [1, "a", new PyFloat(2.5)]],
    ["d", new Map<string, ParameterValue>([["k", 1], ["n", [true]]])],
  ]);
}

const expected: [string, string][] = [
  ["python", "# Parameters\ns = \"\\xe9\\\"q\\\\\\n\"\ni = 3\nbig = 1099511627776\nf = 1.0\nsmall = 1e-05\ninf = float('inf')\nnan = float('nan')\nb = True\nn = None\nl = [1, \"a\", 2.5]\nd = {\"k\": 1, \"n\": [True]}\n"],
  ["R", "# Parameters\ns = \"\\xe9\\\"q\\\\\\n\"\ni = 3\nbig = 1099511627776\nf = 1.0\nsmall = 1e-05\ninf = inf\nnan = nan\nb = TRUE\nn = NULL\nl = list(1, \"a\", 2.5)\nd = list(\"k\" = 1, \"n\" = list(TRUE))\n"],
  ["scala", "// Parameters\nval s = \"\\xe9\\\"q\\\\\\n\"\nval i = 3\nval big = 1099511627776L\nval f = 1.0\nval small = 1e-05\nval inf = inf\nval nan = nan\nval b = true\nval n = None\nval l = Seq(1, \"a\", 2.5)\nval d = Map(\"k\" -> 1, \"n\" -> Seq(true))\n"],
  ["julia", "# Parameters\ns = \"\\xe9\\\"q\\\\\\n\"\ni = 3\nbig = 1099511627776\nf = 1.0\nsmall = 1e-05\ninf = inf\nnan = nan\nb = true\nn = nothing\nl = [1, \"a\", 2.5]\nd = Dict(\"k\" => 1, \"n\" => [true])\n"],
  ["matlab", "% Parameters\ns = \"\\xe9\"\"q\\\\\\n\";\ni = 3;\nbig = 1099511627776;\nf = 1.0;\nsmall = 1e-05;\ninf = inf;\nnan = nan;\nb = true;\nn = NaN;\nl = {1, \"a\", 2.5};\nd = containers.Map({'k', 'n'}, {1, {true}});\n"],
  [".net-csharp", "// Parameters\nvar s = \"\\xe9\\\"q\\\\\\n\";\nvar i = 3;\nvar big = 1099511627776L;\nvar f = 1.0;\nvar small = 1e-05;\nvar inf = inf;\nvar nan = nan;\nvar b = true;\nvar l = new [] { 1, \"a\", 2.5 };\nvar d = new Dictionary<string,Object>{ { \"k\" , 1 }, { \"n\" , new [] { true } } };\n"],
  [".net-fsharp", "(* Parameters *)\nlet s = \"\\xe9\\\"q\\\\\\n\"\nlet i = 3\nlet big = 1099511627776L\nlet f = 1.0\nlet small = 1e-05\nlet inf = inf\nlet nan = nan\nlet b = true\nlet n = None\nlet l = [ 1; \"a\"; 2.5 ]\nlet d = [ (\"k\", 1 :> IComparable); (\"n\", [ true ] :> IComparable) ] |> Map.ofList\n"],
  [".net-powershell", "# Parameters\n$s = \"\\xe9`\"q\\\\\\n\"\n$i = 3\n$big = 1099511627776\n$f = 1.0\n$small = 1e-05\n$inf = [double]::PositiveInfinity\n$nan = [double]::NaN\n$b = $True\n$n = $Null\n$l = @(1, \"a\", 2.5)\n$d = @{\"k\" = 1\n \"n\" = @($True)}\n"],
  ["bash", "# Parameters\ns='\u00e9\"q\\\n'\ni=3\nbig=1099511627776\nf=1.0\nsmall=1e-05\ninf=inf\nnan=nan\nb=true\nn=\nl=(1 a 2.5)\n"],
];

describe("translateParameters", () => {
  for (const [language, text] of expected) {
    it(`renders every value type for ${language} as papermill does`, () => {
      const parameters = sample();
      if (language === ".net-csharp") {
        parameters.delete("n");
      }
      if (language === "bash") {
        parameters.delete("d");
      }
      expect(translateParameters("some-kernel", language, parameters)).toBe(text);
    });
  }

  it("finds the translator by kernel name before language", () => {
    expect(translateParameters("sparkkernel", "python", new Map([["x", 1]]))).toBe("// Parameters\nval x = 1\n");
  });

  it("names the parameter a language cannot represent", () => {
    const call = (): string => translateParameters("bash", "bash", new Map<string, ParameterValue>([["ok", 1], ["config", new Map([["a", 1]])]]));
    expect(call).toThrow(ParameterTranslationError);
    expect(call).toThrow(/parameter 'config': bash cannot represent dicts/);
  });

  it("says which kernels and languages have translators when none fits", () => {
    expect(() => translateParameters("cobol-kernel", "cobol", new Map([["x", 1]]))).toThrow(
      /No parameter translator functions specified for kernel 'cobol-kernel' or language 'cobol'; translators exist for python, R/,
    );
  });

  it("drops leading underscores from R names", () => {
    expect(translateParameters("ir", "R", new Map([["__x", 1]]))).toBe("# Parameters\nx = 1\n");
  });
});

describe("string escapes", () => {
  it("escape like Python's unicode_escape", () => {
    expect(unicodeEscape("a\tb\x00\x7f\xff\u0100😀\\")).toBe("a\\tb\\x00\\x7f\\xff\\u0100\\U0001f600\\\\");
  });

  it("quote like shlex.quote", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("safe-path/a_b.c:1")).toBe("safe-path/a_b.c:1");
    expect(shellQuote("it's")).toBe(`'it'"'"'s'`);
  });
});
