/** Loads a YAML pipeline file; every issue carries the line and column where it was found. */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { PipelineFileError, type ValidationIssue } from "./errors.js";
import type { PipelineSpec } from "./model.js";
import { validateDefinition, type SpecCheck } from "./validate.js";

/** Parses and validates YAML text; throws PipelineFileError with positions. */
export function loadYamlPipeline(file: string, text: string, check?: SpecCheck): PipelineSpec {
  const lineCounter = new LineCounter();
  // yaml's own uniqueKeys check compares each key with every earlier one (quadratic in a map of
  // 100,000 tasks); duplicates are found with one set per map instead.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, version: "1.2" });
  const syntax = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return { path: [], message: `YAML syntax error: ${e.message.split("\n")[0] ?? e.code}`, line: pos.line, column: pos.col };
  });
  if (syntax.length === 0) {
    for (const offset of duplicateKeys(doc)) {
      const pos = lineCounter.linePos(offset);
      syntax.push({ path: [], message: "YAML syntax error: Map keys must be unique", line: pos.line, column: pos.col });
    }
  }
  if (syntax.length > 0) throw new PipelineFileError(file, syntax);
  const result = validateDefinition(doc.toJS({ maxAliasCount: 100 }), check);
  if (result.ok) return result.spec;
  throw new PipelineFileError(file, result.issues.map((issue) => locate(doc, lineCounter, issue)));
}

/** Source offsets of the keys that repeat an earlier key of the same mapping. */
function duplicateKeys(doc: Document): number[] {
  const offsets: number[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        // Keys of a pipeline file are scalars; a mapping or list as a key is refused by validation.
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key)) offsets.push(pair.key.range?.[0] ?? 0);
        seen.add(key);
      }
    },
  });
  return offsets;
}

/** The issue with the line and column of its field in a YAML file's text (unchanged for other files). */
export function locateInYaml(file: string, text: string, issue: ValidationIssue): ValidationIssue {
  if (!/\.ya?ml$/i.test(file)) return issue;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, version: "1.2" });
  return locate(doc, lineCounter, issue);
}

function locate(doc: Document, lines: LineCounter, issue: ValidationIssue): ValidationIssue {
  const offset = offsetOf(doc, issue.path, issue.atKey ?? false);
  if (offset === undefined) return issue;
  const pos = lines.linePos(offset);
  return { ...issue, line: pos.line, column: pos.col };
}

const keyIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

/** A mapping's pairs by key, built once per mapping, so locating many issues stays linear. */
function pairsByKey(map: YAMLMap): Map<string, Pair> {
  let index = keyIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const item of map.items) {
      if (isPair(item) && isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
    }
    keyIndexes.set(map, index);
  }
  return index;
}

/** The source offset of the deepest node on `path`: a mapping key, or a scalar value at the end. */
function offsetOf(doc: Document, path: readonly (string | number)[], atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0];
  for (const part of path) {
    if (isMap(node)) {
      const pair = pairsByKey(node).get(String(part));
      if (!pair) return offset;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof part === "number") {
      const item = node.items[part];
      if (!item) return offset;
      node = item;
      offset = (item as Node).range?.[0] ?? offset;
    } else {
      return offset;
    }
  }
  // A scalar points at its value, so `retries: three` is reported where `three` stands.
  if (isScalar(node) && !atKey) return node.range?.[0] ?? offset;
  return offset;
}
