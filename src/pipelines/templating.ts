/**
 * The template language of task fields: `{{ name }}` with dotted names, nothing else. It cannot run
 * code. Names are checked when the pipeline loads (unknown ones are errors) and filled in when an
 * attempt starts.
 */

/** The run-context names every template may use. */
export const CONTEXT_NAMES = [
  "ds",
  "ds_nodash",
  "ts",
  "ts_nodash",
  "logical_date",
  "data_interval_start",
  "data_interval_end",
  "run_id",
  "pipeline_id",
  "task_id",
  "try_number",
  "artifacts_dir",
] as const;

type Segment = { literal: string } | { name: string[]; source: string };

/** A template that does not parse, names something unknown, or refers to a missing value. */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
}

const EXPRESSION = /\{\{(.*?)\}\}/gs;
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

function parse(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(EXPRESSION)) {
    const index = match.index;
    if (index > last) segments.push({ literal: text.slice(last, index) });
    const inner = (match[1] ?? "").trim();
    if (!NAME.test(inner)) {
      throw new TemplateError(`${JSON.stringify(match[0])} is not a template name; templates are {{ name }} with a dotted name such as {{ ds }}, {{ params.rate }} or {{ tasks.extract.outputs.path }} (no expressions or calls)`);
    }
    segments.push({ name: inner.split("."), source: match[0] });
    last = index + match[0].length;
  }
  if (last < text.length) segments.push({ literal: text.slice(last) });
  const stray = segments.find((s) => "literal" in s && (s.literal.includes("{{") || s.literal.includes("}}")));
  if (stray && "literal" in stray) {
    throw new TemplateError(`unbalanced braces in ${JSON.stringify(text)}; a template is written {{ name }}`);
  }
  return segments;
}

/** What a template may refer to in one task: declared params and the task's upstream tasks. */
export interface TemplateScope {
  params: readonly string[];
  /** Whether this task may read the outputs of `task`: a direct or indirect upstream. */
  isUpstream(task: string): boolean;
  /** The upstream tasks, for messages (computed only when one is needed). */
  upstreamTasks(): readonly string[];
}

/** How many task names a message lists before it says how many more there are. */
const LISTED_TASKS = 20;

function listTasks(tasks: readonly string[]): string {
  if (tasks.length === 0) return "none";
  const shown = tasks.slice(0, LISTED_TASKS).join(", ");
  return tasks.length > LISTED_TASKS ? `${shown} and ${tasks.length - LISTED_TASKS} more` : shown;
}

/** Checks every `{{ … }}` in `text` against the scope; returns a message for the first problem. */
export function checkTemplate(text: string, scope: TemplateScope): string | undefined {
  let segments: Segment[];
  try {
    segments = parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  for (const segment of segments) {
    if (!("name" in segment)) continue;
    const [root, second, third, fourth] = segment.name;
    if (root === "params") {
      if (second === undefined || !scope.params.includes(second)) {
        return `${segment.source}: unknown param ${JSON.stringify(second ?? "")}; declared params: ${scope.params.length > 0 ? scope.params.join(", ") : "none"}`;
      }
      continue;
    }
    if (root === "tasks") {
      if (second === undefined || third !== "outputs" || fourth === undefined) {
        return `${segment.source}: task outputs are read as {{ tasks.TASK_ID.outputs.KEY }}`;
      }
      if (!scope.isUpstream(second)) {
        return `${segment.source}: ${JSON.stringify(second)} is not upstream of this task, so its outputs are not ready when it runs; upstream tasks: ${listTasks(scope.upstreamTasks())}`;
      }
      continue;
    }
    if (segment.name.length === 1 && (CONTEXT_NAMES as readonly string[]).includes(root ?? "")) continue;
    return `${segment.source}: unknown template variable ${JSON.stringify(segment.name.join("."))}; known: ${CONTEXT_NAMES.join(", ")}, params.NAME, tasks.TASK.outputs.KEY`;
  }
  return undefined;
}

/** True when the text contains at least one template. */
export function hasTemplate(text: string): boolean {
  return text.includes("{{");
}

/** The values templates are filled from when an attempt starts. */
export interface TemplateContext {
  values: Record<string, string | number>;
  params: Record<string, unknown>;
  /** Outputs of finished upstream tasks, by task id. */
  outputs: Record<string, Record<string, unknown> | undefined>;
  /** Params declared `type: number`: notebooks receive them as floats even when whole (1.0). */
  floatParams?: ReadonlySet<string>;
}

function lookup(name: string[], context: TemplateContext, source: string): unknown {
  const [root, second, , ...rest] = name;
  if (root === "params") {
    // {{ params.kafka.messages_file }}: a field of an object param (own fields only).
    let value = context.params[second ?? ""];
    for (const key of name.slice(2)) {
      value = typeof value === "object" && value !== null && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
      if (value === undefined) throw new TemplateError(`${source}: param ${second ?? ""} has no field ${JSON.stringify(name.slice(2).join("."))}`);
    }
    return value;
  }
  if (root === "tasks") {
    const outputs = context.outputs[second ?? ""];
    let value: unknown = outputs;
    for (const key of rest) {
      value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (value === undefined) {
      const keys = outputs ? Object.keys(outputs) : [];
      throw new TemplateError(`${source}: task ${second ?? ""} has no output ${JSON.stringify(rest.join("."))}; its outputs: ${keys.length > 0 ? keys.join(", ") : "none (it wrote nothing to $CAPSTAN_OUTPUT)"}`);
    }
    return value;
  }
  const value = context.values[root ?? ""];
  if (value === undefined) throw new TemplateError(`${source}: unknown template variable`);
  return value;
}

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** The text of a template's value for a command line, a path or an environment variable. */
function valueText(segment: { name: string[]; source: string }, context: TemplateContext): string {
  const text = asText(lookup(segment.name, context, segment.source));
  if (text.includes("\0")) {
    throw new TemplateError(`${segment.source}: the value contains a NUL byte (U+0000), which a command line or environment variable cannot hold`);
  }
  return text;
}

/** Fills in every template of `text`; values that are not strings are written as JSON. */
export function renderTemplate(text: string, context: TemplateContext): string {
  if (!hasTemplate(text)) return text;
  return parse(text)
    .map((segment) => ("literal" in segment ? segment.literal : valueText(segment, context)))
    .join("");
}

/** The prefix of the environment variables that carry template values into shell commands. */
export const SHELL_TEMPLATE_PREFIX = "CAPSTAN_TEMPLATE_";

/** A shell command whose templates are references to environment variables, and those variables. */
export interface ShellRendering {
  command: string;
  env: Record<string, string>;
}

/**
 * One level of shell quoting: plain words (at the top or inside `$(…)` / backticks), "…" or '…'.
 * `close` is what ends a nested plain level and `depth` counts the parentheses opened inside it.
 */
type QuoteFrame = { kind: "plain"; close: ")" | "`" | null; depth: number } | { kind: "double" } | { kind: "single" } | { kind: "arithmetic"; depth: number };

/** Follows the quoting of a shell command's literal text, piece by piece. */
class QuoteScanner {
  readonly #stack: QuoteFrame[] = [{ kind: "plain", close: null, depth: 0 }];
  #escaped = false;
  #comment = false;
  #previous = "";

  /** The quoting in effect at the end of the text scanned so far. */
  get state(): "plain" | "double" | "single" | "arithmetic" {
    return this.#top().kind;
  }

  /**
   * Notes a template standing at the current position (a word character to the scan); says whether
   * a backslash just before it was waiting for the character the value now stands in for.
   */
  template(): boolean {
    const escaped = this.#escaped;
    this.#escaped = false;
    this.#previous = "x";
    return escaped;
  }

  get inComment(): boolean {
    return this.#comment;
  }

  #top(): QuoteFrame {
    return this.#stack[this.#stack.length - 1] ?? { kind: "plain", close: null, depth: 0 };
  }

  scan(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i] ?? "";
      const previous = this.#previous;
      this.#previous = c;
      if (this.#comment) {
        if (c === "\n") this.#comment = false;
        continue;
      }
      if (this.#escaped) {
        this.#escaped = false;
        continue;
      }
      const top = this.#top();
      if (top.kind === "single") {
        if (c === "'") this.#stack.pop();
        continue;
      }
      if (c === "\\") {
        this.#escaped = true;
        continue;
      }
      if (top.kind === "arithmetic") {
        // Inside $(( … )): parentheses nest; the first unmatched "))" ends it.
        if (c === "(") top.depth++;
        else if (c === ")" && top.depth > 0) top.depth--;
        else if (c === ")" && text[i + 1] === ")") {
          this.#stack.pop();
          i++;
        }
        continue;
      }
      if (c === "$" && text[i + 1] === "(" && text[i + 2] === "(") {
        this.#stack.push({ kind: "arithmetic", depth: 0 });
        i += 2;
        this.#previous = "(";
        continue;
      }
      if (c === "$" && text[i + 1] === "(") {
        this.#stack.push({ kind: "plain", close: ")", depth: 0 });
        i++;
        this.#previous = "(";
        continue;
      }
      if (c === "`") {
        if (top.kind === "plain" && top.close === "`") this.#stack.pop();
        else this.#stack.push({ kind: "plain", close: "`", depth: 0 });
        continue;
      }
      if (top.kind === "double") {
        if (c === '"') this.#stack.pop();
        continue;
      }
      if (c === "'") this.#stack.push({ kind: "single" });
      else if (c === '"') this.#stack.push({ kind: "double" });
      else if (c === "#" && (previous === "" || /[\s;&|()]/.test(previous))) this.#comment = true;
      else if (top.close === ")" && c === "(") top.depth++;
      else if (top.close === ")" && c === ")") {
        if (top.depth > 0) top.depth--;
        else this.#stack.pop();
      }
    }
  }
}

/**
 * Renders a command that runs with `sh -c` so that no value can become shell syntax: every
 * template is replaced by a reference to an environment variable holding its value
 * (CAPSTAN_TEMPLATE_0, …), quoted for where it stands: `"${V}"` outside quotes, `${V}` inside
 * double quotes, `'"${V}"'` inside single quotes. The shell expands a parameter without parsing the
 * value again, so even a wrong guess of the quoting cannot run anything.
 */
export function renderShellCommand(text: string, context: TemplateContext): ShellRendering {
  if (!hasTemplate(text)) return { command: text, env: {} };
  const env: Record<string, string> = {};
  const scanner = new QuoteScanner();
  let command = "";
  for (const segment of parse(text)) {
    if ("literal" in segment) {
      scanner.scan(segment.literal);
      command += segment.literal;
      continue;
    }
    if (scanner.state === "arithmetic" && !scanner.inComment) {
      // A shell evaluates a variable's value inside $(( )) as an expression (bash even runs command
      // substitutions in array subscripts there), so only a plain integer is allowed, written as is.
      const text = valueText(segment, context).trim();
      if (!/^-?\d{1,18}$/.test(text)) {
        throw new TemplateError(`${segment.source} stands inside $(( … )), where only a whole number is allowed; its value is ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`);
      }
      scanner.template();
      command += text;
      continue;
    }
    const name = `${SHELL_TEMPLATE_PREFIX}${Object.keys(env).length}`;
    env[name] = valueText(segment, context);
    const reference = "${" + name + "}";
    // `\{{ x }}` escaped the value's first character when values were pasted in. Outside quotes that
    // backslash vanished, so it is dropped; inside double quotes it stayed, so it is doubled.
    if (scanner.template()) command = scanner.state === "double" ? `${command}\\` : command.slice(0, -1);
    if (scanner.inComment) command += reference;
    else if (scanner.state === "double") command += reference;
    else if (scanner.state === "single") command += `'"${reference}"'`;
    else command += `"${reference}"`;
  }
  return { command, env };
}

/**
 * Renders a value recursively. A string that is exactly one template keeps the type of the value
 * it names (a number param stays a number), which notebook parameters rely on.
 */
export function renderValue(value: unknown, context: TemplateContext): unknown {
  if (typeof value === "string") {
    if (!hasTemplate(value)) return value;
    const segments = parse(value);
    const only = segments[0];
    if (segments.length === 1 && only && "name" in only) return lookup(only.name, context, only.source);
    return renderTemplate(value, context);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, context));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, context)]));
  }
  return value;
}

/** Visits every string inside a value with its path, for load-time checks. */
export function forEachString(value: unknown, path: (string | number)[], visit: (text: string, path: (string | number)[]) => void): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => forEachString(item, [...path, i], visit));
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) forEachString(item, [...path, key], visit);
  }
}
