/**
 * Parameter translators: render parameter values as source code in the notebook's language,
 * exactly as papermill's translators do (python, R, scala, julia, matlab, .net-csharp,
 * .net-fsharp, .net-powershell, bash, and the spark kernels).
 */
import { ParameterTranslationError } from "../errors.js";
import { PyFloat, pyFloatRepr } from "../values/py-float.js";
import { pyStr, type ParameterDict, type ParameterValue } from "./parameter-value.js";

/** Raised inside a translator for a value its language cannot represent. */
class Unrepresentable extends Error {}

/** Python's `str.encode('unicode_escape').decode()`. */
export function unicodeEscape(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x10000) {
      out += `\\U${code.toString(16).padStart(8, "0")}`;
    } else if (code >= 0x100) {
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    } else if (char === "\\") {
      out += "\\\\";
    } else if (char === "\t") {
      out += "\\t";
    } else if (char === "\n") {
      out += "\\n";
    } else if (char === "\r") {
      out += "\\r";
    } else if (code < 0x20 || code >= 0x7f) {
      out += `\\x${code.toString(16).padStart(2, "0")}`;
    } else {
      out += char;
    }
  }
  return out;
}

/** Python's `shlex.quote`. */
export function shellQuote(text: string): string {
  if (text === "") {
    return "''";
  }
  if (!/[^\w@%+=:,./-]/.test(text)) {
    return text;
  }
  return `'${text.replace(/'/g, `'"'"'`)}'`;
}

function isInt(value: ParameterValue): value is number | bigint {
  return typeof value === "bigint" || typeof value === "number";
}

function floatOf(value: ParameterValue): number | undefined {
  if (value instanceof PyFloat) {
    return value.value;
  }
  if (typeof value === "number" && !Number.isInteger(value)) {
    return value;
  }
  return undefined;
}

/** The base translator: each language overrides the pieces that differ. */
class Translator {
  readonly name: string = "generic";

  rawStr(value: ParameterValue): string {
    const float = floatOf(value);
    return float === undefined ? pyStr(value) : pyFloatRepr(float);
  }

  escapedStr(value: ParameterValue): string {
    const text = typeof value === "string" ? unicodeEscape(value).replace(/"/g, '\\"') : this.rawStr(value);
    return `"${text}"`;
  }

  str(value: string): string {
    return this.escapedStr(value);
  }

  none(value: null): string {
    return this.rawStr(value);
  }

  int(value: number | bigint): string {
    return this.rawStr(value);
  }

  float(value: number): string {
    return pyFloatRepr(value);
  }

  bool(value: boolean): string {
    return value ? "true" : "false";
  }

  dict(_value: ParameterDict): string {
    throw new Unrepresentable("dicts");
  }

  list(_value: ParameterValue[]): string {
    throw new Unrepresentable("lists");
  }

  translate(value: ParameterValue): string {
    if (value === null) {
      return this.none(value);
    }
    if (typeof value === "string") {
      return this.str(value);
    }
    if (typeof value === "boolean") {
      return this.bool(value);
    }
    const float = floatOf(value);
    if (float !== undefined) {
      return this.float(float);
    }
    if (isInt(value)) {
      return this.int(value);
    }
    if (Array.isArray(value)) {
      return this.list(value);
    }
    if (value instanceof Map) {
      return this.dict(value);
    }
    return this.escapedStr(value);
  }

  comment(text: string): string {
    return text;
  }

  assign(name: string, value: string): string {
    return `${name} = ${value}`;
  }

  codify(parameters: ParameterDict, comment: string, onError: (name: string, what: string) => never): string {
    let content = `${this.comment(comment)}\n`;
    for (const [name, value] of parameters) {
      content += `${this.line(name, this.translateNamed(name, value, onError))}\n`;
    }
    return content;
  }

  protected line(name: string, value: string): string {
    return this.assign(name, value);
  }

  private translateNamed(name: string, value: ParameterValue, onError: (name: string, what: string) => never): string {
    try {
      return this.translate(value);
    } catch (error) {
      if (error instanceof Unrepresentable) {
        return onError(name, error.message);
      }
      throw error;
    }
  }
}

function bigIntSuffix(value: number | bigint): string {
  const text = BigInt(value).toString();
  return BigInt(value) > 2147483647n || BigInt(value) < -2147483648n ? `${text}L` : text;
}

class PythonTranslator extends Translator {
  override readonly name = "python";
  override float(value: number): string {
    if (Number.isFinite(value)) {
      return pyFloatRepr(value);
    }
    if (Number.isNaN(value)) {
      return "float('nan')";
    }
    return value < 0 ? "float('-inf')" : "float('inf')";
  }
  override bool(value: boolean): string {
    return value ? "True" : "False";
  }
  override dict(value: ParameterDict): string {
    return `{${[...value].map(([key, item]) => `${this.str(key)}: ${this.translate(item)}`).join(", ")}}`;
  }
  override list(value: ParameterValue[]): string {
    return `[${value.map((item) => this.translate(item)).join(", ")}]`;
  }
  override comment(text: string): string {
    return `# ${text}`.trim();
  }
}

class RTranslator extends Translator {
  override readonly name = "R";
  override none(): string {
    return "NULL";
  }
  override bool(value: boolean): string {
    return value ? "TRUE" : "FALSE";
  }
  override dict(value: ParameterDict): string {
    return `list(${[...value].map(([key, item]) => `${this.str(key)} = ${this.translate(item)}`).join(", ")})`;
  }
  override list(value: ParameterValue[]): string {
    return `list(${value.map((item) => this.translate(item)).join(", ")})`;
  }
  override comment(text: string): string {
    return `# ${text}`.trim();
  }
  override assign(name: string, value: string): string {
    return `${name.replace(/^_+/, "")} = ${value}`;
  }
}

class ScalaTranslator extends Translator {
  override readonly name = "scala";
  override int(value: number | bigint): string {
    return bigIntSuffix(value);
  }
  override dict(value: ParameterDict): string {
    return `Map(${[...value].map(([key, item]) => `${this.str(key)} -> ${this.translate(item)}`).join(", ")})`;
  }
  override list(value: ParameterValue[]): string {
    return `Seq(${value.map((item) => this.translate(item)).join(", ")})`;
  }
  override comment(text: string): string {
    return `// ${text}`.trim();
  }
  override assign(name: string, value: string): string {
    return `val ${name} = ${value}`;
  }
}

class JuliaTranslator extends Translator {
  override readonly name = "julia";
  override none(): string {
    return "nothing";
  }
  override dict(value: ParameterDict): string {
    return `Dict(${[...value].map(([key, item]) => `${this.str(key)} => ${this.translate(item)}`).join(", ")})`;
  }
  override list(value: ParameterValue[]): string {
    return `[${value.map((item) => this.translate(item)).join(", ")}]`;
  }
  override comment(text: string): string {
    return `# ${text}`.trim();
  }
}

class MatlabTranslator extends Translator {
  override readonly name = "matlab";
  override escapedStr(value: ParameterValue): string {
    const text = typeof value === "string" ? unicodeEscape(value).replace(/"/g, '""') : this.rawStr(value);
    return `"${text}"`;
  }
  private charArray(value: string): string {
    return `'${unicodeEscape(value).replace(/'/g, "''")}'`;
  }
  override none(): string {
    return "NaN";
  }
  override dict(value: ParameterDict): string {
    const keys = [...value.keys()].map((key) => this.charArray(key)).join(", ");
    const values = [...value.values()].map((item) => this.translate(item)).join(", ");
    return `containers.Map({${keys}}, {${values}})`;
  }
  override list(value: ParameterValue[]): string {
    return `{${value.map((item) => this.translate(item)).join(", ")}}`;
  }
  override comment(text: string): string {
    return `% ${text}`.trim();
  }
  protected override line(name: string, value: string): string {
    return `${this.assign(name, value)};`;
  }
}

class CSharpTranslator extends Translator {
  override readonly name = ".net-csharp";
  override none(): string {
    throw new Unrepresentable("None (C# has no untyped null literal here)");
  }
  override int(value: number | bigint): string {
    return bigIntSuffix(value);
  }
  override dict(value: ParameterDict): string {
    const pairs = [...value].map(([key, item]) => `{ ${this.str(key)} , ${this.translate(item)} }`).join(", ");
    return `new Dictionary<string,Object>{ ${pairs} }`;
  }
  override list(value: ParameterValue[]): string {
    return `new [] { ${value.map((item) => this.translate(item)).join(", ")} }`;
  }
  override comment(text: string): string {
    return `// ${text}`.trim();
  }
  override assign(name: string, value: string): string {
    return `var ${name} = ${value};`;
  }
}

class FSharpTranslator extends Translator {
  override readonly name = ".net-fsharp";
  override none(): string {
    return "None";
  }
  override int(value: number | bigint): string {
    return bigIntSuffix(value);
  }
  override dict(value: ParameterDict): string {
    const tuples = [...value].map(([key, item]) => `(${this.str(key)}, ${this.translate(item)} :> IComparable)`).join("; ");
    return `[ ${tuples} ] |> Map.ofList`;
  }
  override list(value: ParameterValue[]): string {
    return `[ ${value.map((item) => this.translate(item)).join("; ")} ]`;
  }
  override comment(text: string): string {
    return `(* ${text} *)`.trim();
  }
  override assign(name: string, value: string): string {
    return `let ${name} = ${value}`;
  }
}

class PowershellTranslator extends Translator {
  override readonly name = ".net-powershell";
  override escapedStr(value: ParameterValue): string {
    const text = typeof value === "string" ? unicodeEscape(value).replace(/"/g, '`"') : this.rawStr(value);
    return `"${text}"`;
  }
  override float(value: number): string {
    if (Number.isFinite(value)) {
      return pyFloatRepr(value);
    }
    if (Number.isNaN(value)) {
      return "[double]::NaN";
    }
    return value < 0 ? "[double]::NegativeInfinity" : "[double]::PositiveInfinity";
  }
  override none(): string {
    return "$Null";
  }
  override bool(value: boolean): string {
    return value ? "$True" : "$False";
  }
  override dict(value: ParameterDict): string {
    return `@{${[...value].map(([key, item]) => `${this.str(key)} = ${this.translate(item)}`).join("\n ")}}`;
  }
  override list(value: ParameterValue[]): string {
    return `@(${value.map((item) => this.translate(item)).join(", ")})`;
  }
  override comment(text: string): string {
    return `# ${text}`.trim();
  }
  override assign(name: string, value: string): string {
    return `$${name} = ${value}`;
  }
}

class BashTranslator extends Translator {
  override readonly name = "bash";
  override none(): string {
    return "";
  }
  override escapedStr(value: ParameterValue): string {
    return shellQuote(typeof value === "string" ? value : this.rawStr(value));
  }
  override list(value: ParameterValue[]): string {
    return `(${value.map((item) => this.translate(item)).join(" ")})`;
  }
  override comment(text: string): string {
    return `# ${text}`.trim();
  }
  override assign(name: string, value: string): string {
    return `${name}=${value}`;
  }
}

const python = new PythonTranslator();
const r = new RTranslator();
const scala = new ScalaTranslator();

const TRANSLATORS = new Map<string, Translator>([
  ["python", python],
  ["R", r],
  ["scala", scala],
  ["julia", new JuliaTranslator()],
  ["matlab", new MatlabTranslator()],
  [".net-csharp", new CSharpTranslator()],
  [".net-fsharp", new FSharpTranslator()],
  [".net-powershell", new PowershellTranslator()],
  ["pysparkkernel", python],
  ["sparkkernel", scala],
  ["sparkrkernel", r],
  ["bash", new BashTranslator()],
]);

/** The kernel names and languages that have a translator. */
export const TRANSLATOR_KEYS: readonly string[] = [...TRANSLATORS.keys()];

function findTranslator(kernelName: string, language: string): Translator {
  const translator = TRANSLATORS.get(kernelName) ?? TRANSLATORS.get(language);
  if (!translator) {
    throw new ParameterTranslationError(
      `No parameter translator functions specified for kernel '${kernelName}' or language '${language}'; translators exist for ${TRANSLATOR_KEYS.join(", ")} (pass -l LANGUAGE to pick one)`,
      { kernelName, language },
    );
  }
  return translator;
}

/** True when papermill can introspect parameters cells for this kernel or language (Python only). */
export function supportsInspection(kernelName: string, language: string): boolean {
  return findTranslator(kernelName, language) instanceof PythonTranslator;
}

/**
 * The source of the injected-parameters cell: a comment line, then one assignment per parameter.
 * Throws {@link ParameterTranslationError} naming the parameter the language cannot represent.
 */
export function translateParameters(kernelName: string, language: string, parameters: ParameterDict, comment = "Parameters"): string {
  const translator = findTranslator(kernelName, language);
  return translator.codify(parameters, comment, (name, what) => {
    throw new ParameterTranslationError(`parameter '${name}': ${translator.name} cannot represent ${what}; pass it as a string, a number or a list instead`, {
      parameter: name,
      kernelName,
      language,
    });
  });
}
