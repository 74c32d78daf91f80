/** The pipeline version: a content hash of the normalised spec, so any change of spec is a new version. */
import { createHash } from "node:crypto";
import type { PipelineSpec } from "./model.js";

/** JSON with object keys sorted, so equal specs always serialise to equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** The version id of a spec: the first 16 hex digits of its SHA-256. */
export function versionHash(spec: PipelineSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex").slice(0, 16);
}
