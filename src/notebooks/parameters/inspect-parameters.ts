/**
 * Reads the parameters declared in a Python parameters cell as papermill's Python translator
 * inspects it (multi-line values grouped, comments skipped): their names, to warn about passed
 * parameters the notebook does not declare, and their types, defaults and help for
 * `--help-notebook`.
 */
import { splitLinesKeepEnds } from "../nbformat/lines.js";

// eslint-disable-next-line no-control-regex -- Python line breaks include \x1c-\x1e
const LINE_END = /(?:\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])$/;
const W = "[\\p{L}\\p{N}\\p{Mn}\\p{Mc}\\p{Pc}]";
const PARAMETER = new RegExp(
  `^(?<target>${W}${W}*)\\s*(:\\s*["']?(?<annotation>${W}[${W.slice(1, -1)}\\[\\],\\s]*)["']?\\s*)?=\\s*(?<value>.*?)(\\s*#\\s*(type:\\s*(?<type>[^\\s]*)\\s*)?(?<help>.*))?$`,
  "u",
);

function flatten(accumulator: string[]): string {
  let flat = "";
  accumulator.slice(0, -1).forEach((line) => {
    const hash = line.indexOf("#");
    flat += (hash >= 0 ? line.slice(0, hash) : line).trim();
  });
  const last = accumulator[accumulator.length - 1];
  if (last !== undefined) {
    flat += last.trim();
  }
  return flat;
}

/** One parameter of a parameters cell, as papermill's `Parameter` tuple holds it. */
export interface InspectedParameter {
  name: string;
  /** the annotation or `# type:` comment; "None" when there is neither */
  inferredTypeName: string;
  /** the default's source text */
  default: string;
  /** the comment after the value */
  help: string;
}

/**
 * The parameters declared in a Python parameters cell's source. `warn` receives papermill's
 * warning for a line it cannot parse (more than one `=`).
 */
export function inspectPythonParameterCell(source: string, warn: (message: string) => void = () => undefined): InspectedParameter[] {
  const groups: string[] = [];
  let accumulator: string[] = [];
  splitLinesKeepEnds(source).forEach((rawLine, index) => {
    const line = rawLine.replace(LINE_END, "");
    if (line.trim().length === 0 || line.trim().startsWith("#")) {
      return;
    }
    const equals = line.split("=").length - 1;
    if (equals > 0) {
      groups.push(flatten(accumulator));
      accumulator = [];
      if (equals > 1) {
        warn(`Unable to parse line ${index + 1} '${line}'.`);
        return;
      }
    }
    accumulator.push(line);
  });
  groups.push(flatten(accumulator));
  const parameters: InspectedParameter[] = [];
  for (const definition of groups) {
    const fields = definition.length > 0 ? PARAMETER.exec(definition)?.groups : undefined;
    const target = fields?.["target"];
    if (fields === undefined || target === undefined) {
      continue;
    }
    parameters.push({
      name: target.trim(),
      inferredTypeName: (fields["annotation"] || fields["type"] || "None").trim(),
      default: (fields["value"] ?? "").trim(),
      help: (fields["help"] ?? "").trim(),
    });
  }
  return parameters;
}

/** The parameter names declared in a Python parameters cell's source. */
export function inspectPythonParameters(source: string, warn?: (message: string) => void): string[] {
  return inspectPythonParameterCell(source, warn).map((parameter) => parameter.name);
}
