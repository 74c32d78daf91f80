/**
 * A registered version's files as one archive: the stored .mar as it is, or a model folder zipped
 * the way a .mar is laid out (its files at the root, MAR-INF/MANIFEST.json inside), so any model
 * store, local or across the API, receives a single file that `capstan serve` loads.
 */
import { createReadStream, createWriteStream, readdirSync, statSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ZipFile } from "yazl";

/** The stored files' archive as a stream: the file of a "mar" version, a zip of a "dir" version. */
export function modelArchiveStream(artifactPath: string, kind: "mar" | "dir"): Readable {
  if (kind === "mar") return createReadStream(artifactPath);
  const zip = new ZipFile();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) zip.addFile(full, relative(artifactPath, full).split("\\").join("/"), { mtime: statSync(full).mtime });
    }
  };
  walk(artifactPath);
  zip.end();
  return zip.outputStream as unknown as Readable;
}

/** Writes `source` to `target` through a temporary file beside it, so a reader never sees half an archive. */
export async function writeModelArchive(source: Readable, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  try {
    await pipeline(source, createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
