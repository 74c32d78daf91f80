/**
 * A folder of any backend as a streaming zip (yazl; ZIP64 past 4 GiB): files are opened one at a
 * time as the archive reaches them, so memory stays flat for any folder size. Member names are
 * the paths below the folder, built from checked volume paths, so no member can name "..", an
 * absolute path or a place outside the folder.
 */
import { PassThrough, type Readable } from "node:stream";
import { ZipFile } from "yazl";
import type { Storage } from "./storage.js";
import { StorageError } from "./storage-error.js";
import { normalizePath } from "./storage-path.js";

/**
 * The zip of `path` (a folder, or one file) as a stream. Entries are added while the archive is
 * written; an error half-way (a file deleted meanwhile, a lost store) ends the stream with it.
 */
export async function zipFolder(storage: Storage, path: string): Promise<Readable> {
  const canonical = normalizePath(path);
  const top = await storage.stat(canonical);
  const base = top.type === "folder" && canonical !== "" ? `${canonical}/` : "";
  // The first entry is awaited here, so a walk refused at the start is an error of this call, not of the stream.
  const entries = storage.walk(canonical)[Symbol.asyncIterator]();
  const first = await entries.next();
  const zip = new ZipFile();
  const output = new PassThrough();
  zip.outputStream.on("error", (error: Error) => output.destroy(error));
  // A file that cannot be read when the archive reaches it (yazl reports that on the ZipFile) ends the stream.
  zip.on("error", (error: Error) => output.destroy(error));
  zip.outputStream.pipe(output);
  const add = async (): Promise<void> => {
    for (let next = first; next.done !== true; next = await entries.next()) {
      const entry = next.value;
      const member = top.type === "file" ? top.name : entry.path.slice(base.length);
      if (member === "" || member.startsWith("/") || member.split("/").includes(".."))
        throw new StorageError("invalid_path", `zip member ${JSON.stringify(member)} would lead outside the archive`, entry.path);
      const mtime = new Date(entry.modified ?? Date.now());
      if (entry.type === "folder") {
        zip.addEmptyDirectory(member, { mtime });
        continue;
      }
      zip.addReadStreamLazy(member, { mtime, size: entry.size, compress: false }, (callback) => {
        storage.read(entry.path).then(
          (result) => callback(null, result.stream),
          (error: unknown) => callback(error, new PassThrough()),
        );
      });
    }
    zip.end();
  };
  add().catch((error: unknown) => output.destroy(error instanceof Error ? error : new Error(String(error))));
  return output;
}
