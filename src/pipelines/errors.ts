/** Errors of pipeline files: each issue names the file, the line and column (YAML) or the field path. */
import { CapstanError } from "../errors/index.js";

export type FieldPath = readonly (string | number)[];

/** One problem found in a pipeline file. */
export interface ValidationIssue {
  /** Field path inside the file, e.g. ["tasks", "train", "retries"]. */
  path: FieldPath;
  message: string;
  /** 1-based line and column, when the file format keeps positions (YAML). */
  line?: number;
  column?: number;
  /** Point at the mapping key rather than its value (for unknown fields). */
  atKey?: boolean;
}

/** Formats a field path the way users write it: tasks.train.depends_on[0]. */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}

/** Where an issue is: `file:line:col`, or the file alone when its format keeps no positions. */
export function issueLocation(file: string, issue: Pick<ValidationIssue, "line" | "column">): string {
  return issue.line !== undefined ? `${file}:${issue.line}:${issue.column ?? 1}` : file;
}

/** Formats one issue as `file:line:col: path: message`. */
export function formatIssue(file: string, issue: ValidationIssue): string {
  const where = issueLocation(file, issue);
  const path = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : "";
  return `${where}: ${path}${issue.message}`;
}

/** A pipeline file that failed to load; `issues` lists every problem found. */
export class PipelineFileError extends CapstanError {
  override readonly name = "PipelineFileError";
  readonly file: string;
  readonly issues: readonly ValidationIssue[];

  constructor(file: string, issues: readonly ValidationIssue[], options?: { cause?: unknown }) {
    super("invalid_file", "invalid_pipeline", issues.map((issue) => formatIssue(file, issue)).join("\n"), { details: issues, cause: options?.cause });
    this.file = file;
    this.issues = issues;
  }
}

/** Collects issues while validating; the validator throws once with all of them. */
export class IssueList {
  readonly issues: ValidationIssue[] = [];

  add(path: FieldPath, message: string): void {
    this.issues.push({ path: [...path], message });
  }

  get empty(): boolean {
    return this.issues.length === 0;
  }
}
