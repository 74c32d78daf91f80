/**
 * Builds .mar archives for tests the way torch-model-archiver writes them: the user's files at the
 * root of a deflated zip and MAR-INF/MANIFEST.json last, with createdOn, runtime, model and
 * archiverVersion in that order.
 */
import { writeFileSync } from "node:fs";
import { crc32, deflateRawSync } from "node:zlib";

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

/** A deflated zip of the given entries. */
export function zip(entries: Array<[string, Buffer]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const packed = deflateRawSync(data);
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    locals.push(local, nameBytes, packed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
