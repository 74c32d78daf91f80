/**
 * Builds .mar archives for tests the way torch-model-archiver writes them: the user's files at the
 * root of a deflated zip and MAR-INF/MANIFEST.json last, with createdOn, runtime, model and
 * archiverVersion in that order.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { python } from "../../notebooks/support/paths.js";

/** What goes into an archive. */
export interface MarSpec {
  modelName: string;
  modelVersion?: string;
  handler: string;
  files: Record<string, string | Buffer>;
  configFile?: string;
  serializedFile?: string;
  /** replaces the manifest (to test broken ones); a string is written as is */
  manifest?: unknown;
}

/** The manifest torch-model-archiver would write for `spec`. */
export function manifestOf(spec: MarSpec): Record<string, unknown> {
  const model: Record<string, unknown> = { modelName: spec.modelName };
  if (spec.serializedFile) model["serializedFile"] = spec.serializedFile;
  model["handler"] = spec.handler;
  model["modelVersion"] = spec.modelVersion ?? "1.0";
  if (spec.configFile) model["configFile"] = spec.configFile;
  return { createdOn: "01/12/2026 10:00:00", runtime: "python", model, archiverVersion: "0.12.0" };
}

/** Writes the archive to `path`. */
export function writeMar(path: string, spec: MarSpec): void {
  const manifest = spec.manifest === undefined ? manifestOf(spec) : spec.manifest;
  const files: Array<[string, Buffer]> = Object.entries(spec.files).map(([name, data]) => [name, Buffer.from(data)]);
  files.push(["MAR-INF/MANIFEST.json", Buffer.from(typeof manifest === "string" ? manifest : JSON.stringify(manifest, null, 2))]);
  writeFileSync(path, zip(files));
}

/** Options of one zip entry. */
export interface ZipEntryOptions {
  /** write the entry as a symbolic link whose target is its data */
  symlink?: boolean;
}

/**
 * A deflated zip of the given entries, written by Python's zipfile (the writer torch-model-archiver
 * uses), names kept exactly as given so tests can build hostile archives.
 */
export function zip(entries: Array<[string, Buffer, ZipEntryOptions?]>): Buffer {
  const program = `
import base64, io, json, sys, zipfile
out = io.BytesIO()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
    for name, data, symlink in json.load(sys.stdin):
        info = zipfile.ZipInfo(name, date_time=(2026, 12, 1, 10, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = ((0o120777 if symlink else 0o100644) << 16)
        archive.writestr(info, base64.b64decode(data))
sys.stdout.buffer.write(out.getvalue())
`;
  const input = JSON.stringify(entries.map(([name, data, options]) => [name, data.toString("base64"), options?.symlink ?? false]));
  return execFileSync(python, ["-c", program], { input, maxBuffer: 1024 ** 3 });
}
