/**
 * Unpacks zip archives (.mar files) with yauzl, streaming each entry to disk (zip64 included, so
 * multi-gigabyte weights unpack without being held in memory). Entry names that are absolute,
 * climb with `..`, use backslashes or drive letters, and entries that are symbolic links are
 * refused, so an archive cannot write outside the folder it is unpacked into; the total size is
 * capped against zip bombs, and each entry's size is checked against what the archive declares.
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl, { type Entry, type ZipFile } from "yauzl";

/** The archive is not a zip, is damaged, or holds an entry that may not be unpacked. */
export class ZipFormatError extends Error {
  override readonly name = "ZipFormatError";
}

/** The unix file type bits of an entry, from the upper half of its external attributes. */
const FILE_TYPE_MASK = 0o170000;
const SYMBOLIC_LINK = 0o120000;

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: true, autoClose: true }, (error, zip) => {
      if (error) reject(new ZipFormatError(`not a zip archive, or a truncated one (${error.message})`, { cause: error }));
      else resolve(zip);
    });
  });
}

function openEntry(zip: ZipFile, entry: Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) reject(new ZipFormatError(`${entry.fileName}: ${error.message}`, { cause: error }));
      else resolve(stream);
    });
  });
}

/** Unpacks the zip at `path` into the folder `into` (which must exist); at most `maxTotalBytes` in all. */
export async function unpackZip(path: string, into: string, maxTotalBytes = 8 * 1024 ** 3): Promise<string[]> {
  const zip = await openZip(path);
  const names: string[] = [];
  let total = 0;
  const countBytes = (name: string): Transform =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        total += chunk.length;
        if (total > maxTotalBytes) done(new ZipFormatError(`${name}: the archive unpacks to more than ${maxTotalBytes} bytes`));
        else done(null, chunk);
      },
    });
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown): void => {
        zip.close();
        if (error instanceof ZipFormatError) {
          reject(error);
          return;
        }
        const message = (error as Error).message;
        // yauzl's checks of entry names: absolute, climbing with .., backslashes
        const escapes = /invalid relative path|absolute path|invalid characters in fileName/.test(message);
        reject(new ZipFormatError(escapes ? `an entry leads outside the archive's folder (${message})` : message, { cause: error }));
      };
      zip.on("error", fail);
      zip.on("end", resolve);
      zip.on("entry", (entry: Entry) => {
        const name = entry.fileName;
        const type = (entry.externalFileAttributes >>> 16) & FILE_TYPE_MASK;
        if (type === SYMBOLIC_LINK) {
          fail(new ZipFormatError(`${name}: the archive holds a symbolic link, which is not unpacked`));
          return;
        }
        const target = join(into, name);
        if (name.endsWith("/")) {
          mkdirSync(target, { recursive: true });
          zip.readEntry();
          return;
        }
        names.push(name);
        mkdirSync(dirname(target), { recursive: true });
        openEntry(zip, entry)
          .then((stream) => pipeline(stream, countBytes(name), createWriteStream(target, { flags: "wx", mode: 0o600 })))
          .then(() => zip.readEntry(), fail);
      });
      zip.readEntry();
    });
  } catch (error) {
    if (error instanceof ZipFormatError) throw error;
    throw new ZipFormatError((error as Error).message, { cause: error });
  }
  return names;
}
