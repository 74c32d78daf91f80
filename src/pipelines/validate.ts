/**
 * Validation shared by the YAML and TypeScript loaders: zod shape check with messages that say what
 * is accepted, then normalisation. Positions are added by the caller that knows the file format.
 */
import type { z } from "zod";
import { IssueList, type ValidationIssue } from "./errors.js";
import type { PipelineSpec } from "./model.js";
import { normalizePipeline } from "./normalize.js";
import { paramSchema, pipelineSchema, taskDefaultsSchema, taskSchema } from "./spec-schema.js";
import { sparkTaskSchema } from "./spark-task.js";

/**
 * A check beyond the file itself, run on a spec that is valid on its own: e.g. that a task's
 * `cluster:` names a configured cluster. Returns the issues found (paths into the file).
 */
export type SpecCheck = (spec: PipelineSpec) => ValidationIssue[];

/** The outcome of validating one definition: a spec, or the issues that prevent it. */
export type ValidationResult = { ok: true; spec: PipelineSpec } | { ok: false; issues: ValidationIssue[] };

const PIPELINE_FIELDS = Object.keys(pipelineSchema.shape);
const TASK_FIELDS = Object.keys(taskSchema.shape);
const DEFAULT_FIELDS = Object.keys(taskDefaultsSchema.shape);
const RESOURCE_FIELDS = ["cpu", "memory", "gpu"];
const SPARK_FIELDS = Object.keys(sparkTaskSchema.shape);
const PARAM_FIELDS = ["type", "default", "description", "enum", "minimum", "maximum"];
void paramSchema;

/** The fields accepted by the object at `path`, for "unknown field" messages. */
function acceptedFields(path: readonly PropertyKey[]): string[] {
  const last = path[path.length - 1];
  if (path.length === 0) return PIPELINE_FIELDS;
  if (path.length === 2 && path[0] === "tasks") return TASK_FIELDS;
  if (path.length === 1 && last === "defaults") return DEFAULT_FIELDS;
  if (last === "resources") return RESOURCE_FIELDS;
  if (path.length === 3 && path[0] === "tasks" && last === "spark") return SPARK_FIELDS;
  if (path.length === 2 && path[0] === "params") return PARAM_FIELDS;
  return [];
}

function describeInput(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string") return `the string ${JSON.stringify(input)}`;
  return `${typeof input} ${JSON.stringify(input)}`;
}

function issueFromZod(issue: z.core.$ZodIssue): ValidationIssue[] {
  const path = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
  switch (issue.code) {
    case "unrecognized_keys": {
      const accepted = acceptedFields(issue.path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message: `unknown field ${JSON.stringify(key)}${accepted.length > 0 ? `; accepted here: ${accepted.join(", ")}` : ""}`,
      }));
    }
    case "invalid_type": {
      if (issue.input === undefined) return [{ path, message: `${String(path[path.length - 1] ?? "value")} is required` }];
      const custom = issue.message.startsWith("Invalid input") ? `expected ${issue.expected}` : issue.message;
      return [{ path, message: `${custom}, got ${describeInput(issue.input)}` }];
    }
    case "invalid_key":
      return [{ path, atKey: true, message: `${JSON.stringify(path[path.length - 1])}: ${issue.issues.map((i) => i.message).join("; ")}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** Validates a parsed definition (from YAML or a TypeScript default export). */
export function validateDefinition(value: unknown, check?: SpecCheck): ValidationResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, issues: [{ path: [], message: `a pipeline file holds one mapping with id and tasks; got ${describeInput(value)}` }] };
  }
  const parsed = pipelineSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.flatMap(issueFromZod) };
  }
  const issues = new IssueList();
  const spec = normalizePipeline(parsed.data, issues);
  if (!issues.empty) return { ok: false, issues: issues.issues };
  const extra = check?.(spec) ?? [];
  return extra.length === 0 ? { ok: true, spec } : { ok: false, issues: extra };
}
