/**
 * Typed pipeline params: normalising their declarations, and validating and coercing the values
 * given at trigger time (from the CLI's `-p name=value`, the API, or defaults).
 */
import { CapstanError } from "../errors/index.js";
import type { FieldPath, IssueList } from "./errors.js";
import type { ParamSpec } from "./model.js";
import type { ParamType, RawParam } from "./spec-schema.js";

/** A param value that does not fit its declaration; the message names the param. */
export class ParamError extends CapstanError {
  override readonly name = "ParamError";
  readonly param: string;
  constructor(param: string, message: string) {
    super("invalid", "invalid_param", message, { details: { param } });
    this.param = param;
  }
}

/** Turns the written form of a param (a declaration or a bare default) into a ParamSpec. */
export function normalizeParam(raw: RawParam, path: FieldPath, issues: IssueList): ParamSpec {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { type: inferType(raw), default: raw };
  }
  const spec: ParamSpec = { type: raw.type };
  if (raw.description !== undefined) spec.description = raw.description;
  if (raw.enum !== undefined) spec.enum = raw.enum;
  if (raw.minimum !== undefined) spec.minimum = raw.minimum;
  if (raw.maximum !== undefined) spec.maximum = raw.maximum;
  if (raw.default !== undefined) {
    const problem = checkValue(spec, raw.default);
    if (problem) issues.add([...path, "default"], problem);
    spec.default = raw.default;
  }
  return spec;
}

function inferType(value: unknown): ParamType {
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object" && value !== null) return "object";
  return "string";
}

/**
 * Where a value holds a NUL byte (U+0000): "" for the value itself, `.key` / `[i]` for a part of
 * it; undefined when it holds none. Keys are searched too.
 */
export function findNul(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return value.includes("\0") ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const here = `${path}.${JSON.stringify(key).slice(1, -1)}`;
      if (key.includes("\0")) return here;
      const found = findNul(item, here);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Returns a message when `value` does not fit `spec`, else undefined. */
export function checkValue(spec: ParamSpec, value: unknown): string | undefined {
  const nul = findNul(value);
  if (nul !== undefined) {
    return `${nul === "" ? "the value" : `the value at ${nul.replace(/^\./, "")}`} contains a NUL byte (U+0000); param values cannot hold NUL, because tasks receive them on command lines and in environment variables`;
  }
  const ok = (() => {
    switch (spec.type) {
      case "string": return typeof value === "string";
      case "number": return typeof value === "number" && Number.isFinite(value);
      case "integer": return typeof value === "number" && Number.isInteger(value);
      case "boolean": return typeof value === "boolean";
      case "array": return Array.isArray(value);
      case "object": return typeof value === "object" && value !== null && !Array.isArray(value);
    }
  })();
  if (!ok) return `expected ${article(spec.type)}, got ${describe(value)}`;
  if (spec.enum && !spec.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
    return `${JSON.stringify(value)} is not one of ${spec.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (typeof value === "number") {
    if (spec.minimum !== undefined && value < spec.minimum) return `${value} is below the minimum ${spec.minimum}`;
    if (spec.maximum !== undefined && value > spec.maximum) return `${value} is above the maximum ${spec.maximum}`;
  }
  return undefined;
}

function article(type: ParamType): string {
  return type === "integer" || type === "array" || type === "object" ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Converts a `-p name=value` text to the declared type: numbers must parse completely, booleans
 * accept true/false/yes/no/1/0, objects and arrays are JSON.
 */
export function coerceParamText(name: string, spec: ParamSpec, text: string): unknown {
  const fail = (what: string): never => {
    throw new ParamError(name, `param ${name}: ${JSON.stringify(text)} is not ${what}`);
  };
  switch (spec.type) {
    case "string":
      return text;
    case "number": {
      const n = Number(text.trim());
      return text.trim() === "" || !Number.isFinite(n) ? fail("a number") : n;
    }
    case "integer": {
      const n = Number(text.trim());
      return text.trim() === "" || !Number.isInteger(n) ? fail("an integer") : n;
    }
    case "boolean": {
      const t = text.trim().toLowerCase();
      if (["true", "yes", "1", "on"].includes(t)) return true;
      if (["false", "no", "0", "off"].includes(t)) return false;
      return fail("a boolean (true/false)");
    }
    case "object":
    case "array": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return fail(`JSON ${spec.type === "array" ? "list" : "object"}`);
      }
      return parsed;
    }
  }
}

/**
 * Resolves the params of a run: given values checked against their declarations, defaults filled
 * in, unknown names and missing required params refused. Throws ParamError naming the param.
 */
export function resolveParams(specs: Record<string, ParamSpec>, given: Record<string, unknown>): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in specs)) {
      const known = Object.keys(specs);
      throw new ParamError(name, `unknown param ${JSON.stringify(name)}; this pipeline accepts ${known.length > 0 ? known.join(", ") : "no params"}`);
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = name in given ? given[name] : spec.default;
    if (value === undefined) {
      throw new ParamError(name, `param ${name} is required (${spec.type}${spec.description ? `: ${spec.description}` : ""})`);
    }
    const problem = checkValue(spec, value);
    if (problem) throw new ParamError(name, `param ${name}: ${problem}`);
    resolved[name] = value;
  }
  return resolved;
}
