/**
 * Reads zip archives (.mar files) without a dependency: the central directory, then each entry
 * stored or deflated. Entry names that are absolute, contain `..`, or are links are refused, so an
 * archive cannot write outside the folder it is unpacked into; sizes are capped against zip bombs.
 */
import { inflateRawSync } from "node:zlib";

/** One file of a zip archive. */
export interface ZipEntry {
  name: string;
  isDirectory: boolean;
  /** the uncompressed bytes */
  read(): Buffer;
}

/** The archive is not a zip, is damaged, or holds an entry that may not be unpacked. */
export class ZipFormatError extends Error {
  override readonly name = "ZipFormatError";
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

/** Lists the entries of a zip held in memory; throws ZipFormatError when it is not a sound zip. */
export function readZip(data: Buffer, maxTotalBytes = 8 * 1024 ** 3): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(data);
  const count = data.readUInt16LE(eocd + 10);
  const directorySize = data.readUInt32LE(eocd + 12);
  let offset = data.readUInt32LE(eocd + 16);
  if (offset === 0xffffffff || count === 0xffff) throw new ZipFormatError("zip64 archives are not supported");
  if (offset + directorySize > data.length) throw new ZipFormatError("the central directory lies outside the file (truncated archive?)");
  const entries: ZipEntry[] = [];
  let declaredTotal = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 46 > data.length || data.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) throw new ZipFormatError(`entry ${i} of the central directory is damaged`);
    const method = data.readUInt16LE(offset + 10);
    const compressedSize = data.readUInt32LE(offset + 20);
    const size = data.readUInt32LE(offset + 24);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    const externalAttributes = data.readUInt32LE(offset + 38);
    const localOffset = data.readUInt32LE(offset + 42);
    const name = data.subarray(offset + 46, offset + 46 + nameLength).toString("utf8");
    offset += 46 + nameLength + extraLength + commentLength;
    checkEntryName(name);
    const unixMode = externalAttributes >>> 16;
    if ((unixMode & 0o170000) === 0o120000) throw new ZipFormatError(`entry ${name} is a symbolic link, which an archive may not hold`);
    declaredTotal += size;
    if (declaredTotal > maxTotalBytes) throw new ZipFormatError(`the archive unpacks to more than ${maxTotalBytes} bytes`);
    if (method !== 0 && method !== 8) throw new ZipFormatError(`entry ${name} uses compression method ${method}; only stored and deflated are supported`);
    entries.push({
      name,
      isDirectory: name.endsWith("/"),
      read: () => readEntry(data, name, localOffset, method, compressedSize, size),
    });
  }
  return entries;
}

function findEndOfCentralDirectory(data: Buffer): number {
  const earliest = Math.max(0, data.length - 22 - 0xffff);
  for (let at = data.length - 22; at >= earliest; at--) {
    if (data.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  throw new ZipFormatError("not a zip archive (no end of central directory record)");
}

function checkEntryName(name: string): void {
  if (name === "" || name.includes("\0")) throw new ZipFormatError("an entry has an empty or NUL-containing name");
  if (name.startsWith("/") || name.includes("\\") || /^[A-Za-z]:/.test(name)) throw new ZipFormatError(`entry ${name} has an absolute or Windows path`);
  if (name.split("/").some((part) => part === "..")) throw new ZipFormatError(`entry ${name} leads outside the archive folder (..)`);
}

function readEntry(data: Buffer, name: string, localOffset: number, method: number, compressedSize: number, size: number): Buffer {
  if (localOffset + 30 > data.length || data.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER) throw new ZipFormatError(`the local header of ${name} is damaged`);
  const start = localOffset + 30 + data.readUInt16LE(localOffset + 26) + data.readUInt16LE(localOffset + 28);
  const end = start + compressedSize;
  if (end > data.length) throw new ZipFormatError(`entry ${name} is truncated`);
  const raw = data.subarray(start, end);
  let bytes: Buffer;
  try {
    bytes = method === 0 ? Buffer.from(raw) : inflateRawSync(raw, { maxOutputLength: Math.max(size, 1) });
  } catch (error) {
    throw new ZipFormatError(`entry ${name} cannot be inflated: ${(error as Error).message}`);
  }
  if (bytes.length !== size) throw new ZipFormatError(`entry ${name} is ${bytes.length} bytes, its header says ${size}`);
  return bytes;
}
