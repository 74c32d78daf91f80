/**
 * Finds the names assigned in a Python parameters cell, as papermill's Python translator inspects
 * it (multi-line values grouped, comments skipped), to warn about passed parameters the notebook
 * does not declare.
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

/** The parameter names declared in a Python parameters cell's source. */
export function inspectPythonParameters(source: string): string[] {
  const groups: string[] = [];
  let accumulator: string[] = [];
  for (const rawLine of splitLinesKeepEnds(source)) {
    const line = rawLine.replace(LINE_END, "");
    if (line.trim().length === 0 || line.trim().startsWith("#")) {
      continue;
    }
    const equals = line.split("=").length - 1;
    if (equals > 0) {
      groups.push(flatten(accumulator));
      accumulator = [];
      if (equals > 1) {
        continue;
      }
    }
    accumulator.push(line);
  }
  groups.push(flatten(accumulator));
  const names: string[] = [];
  for (const definition of groups) {
    const target = definition.length > 0 ? PARAMETER.exec(definition)?.groups?.["target"] : undefined;
    if (target !== undefined) {
      names.push(target.trim());
    }
  }
  return names;
}
