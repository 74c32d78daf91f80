/**
 * Unpacks gzipped tar archives (what `torch-model-archiver --archive-format tgz` writes: Python's
 * tarfile, PAX format) as a stream, each file written to disk as it arrives. Only regular files and
 * folders are unpacked: symbolic and hard links, devices and fifos are refused, as are names that
 * are absolute, climb with `..`, hold backslashes, NUL or drive letters; the total size, the number
 * of entries and the size of extended headers are capped against tar and gzip bombs.
 */
import { createReadStream, createWriteStream, mkdirSync } from "node:fs";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { pipeline, type Writable } from "node:stream";

/** The archive is not a gzipped tar, is damaged, or holds an entry that may not be unpacked. */
export class TarFormatError extends Error {
  override readonly name = "TarFormatError";
}

/** Limits of {@link unpackTarGz}. */
export interface TarLimits {
  /** Bytes of file data in all (default 8 GiB, as for zip archives). */
  maxTotalBytes?: number;
  /** Entries in all (default 100,000). */
  maxEntries?: number;
}

const BLOCK = 512;
/** A PAX extended header larger than this is refused (they hold a path and a few numbers). */
const MAX_EXTENDED_HEADER = 1024 * 1024;

/** Reads exact byte counts from an async stream of buffers. */
class ByteReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #done = false;
  readonly #source: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async #fill(wanted: number): Promise<void> {
    while (this.#buffered < wanted && !this.#done) {
      const next = await this.#source.next();
      if (next.done) this.#done = true;
      else {
        this.#chunks.push(next.value);
        this.#buffered += next.value.length;
      }
    }
  }

  #take(count: number): Buffer {
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const taken = all.subarray(0, count);
    const rest = all.subarray(count);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return taken;
  }

  /** Exactly `count` bytes, or undefined at the end of the stream (an error when it ends part-way). */
  async read(count: number): Promise<Buffer | undefined> {
    await this.#fill(count);
    if (this.#buffered === 0 && this.#done) return undefined;
    if (this.#buffered < count) throw new TarFormatError("the archive ends part-way through an entry (truncated)");
    return this.#take(count);
  }

  /** Copies `count` bytes to `out` (undefined: skips them), a chunk at a time. */
  async copy(count: number, out: Writable | undefined): Promise<void> {
    let left = count;
    while (left > 0) {
      await this.#fill(1);
      if (this.#buffered === 0) throw new TarFormatError("the archive ends part-way through a file (truncated)");
      const piece = this.#take(Math.min(left, this.#buffered, 1024 * 1024));
      left -= piece.length;
      if (out && !out.write(piece)) await once(out, "drain");
    }
  }
}

function text(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString("utf8");
}

/** A numeric header field: octal text, or base-256 when its first byte has the high bit set. */
function numberField(header: Buffer, offset: number, length: number, what: string): number {
  const field = header.subarray(offset, offset + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`${what} is too large`);
    return value;
  }
  const digits = text(header, offset, length).trim();
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits)) throw new TarFormatError(`${what} ${JSON.stringify(digits)} is not an octal number`);
  return parseInt(digits, 8);
}

function checksumMatches(header: Buffer): boolean {
  const digits = text(header, 148, 8).trim();
  if (!/^[0-7]+$/.test(digits)) return false;
  const stored = parseInt(digits, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
  return sum === stored;
}

/** PAX records: "LENGTH key=value\n" one after the other. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(data.subarray(at, space).toString("ascii"));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) throw new TarFormatError("a PAX extended header is malformed");
    const record = data.subarray(space + 1, at + length - 1).toString("utf8");
    const equals = record.indexOf("=");
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/** The entry's path if it stays inside the folder; a TarFormatError otherwise. */
function safeName(name: string): string {
  const trimmed = name.replace(/^(\.\/)+/, "");
  if (trimmed.includes("\0") || trimmed.includes("\\") || trimmed.startsWith("/") || /^[A-Za-z]:/.test(trimmed)) {
    throw new TarFormatError(`${JSON.stringify(name)}: an entry leads outside the archive's folder (absolute path, backslash or NUL)`);
  }
  const parts = trimmed.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) throw new TarFormatError(`${JSON.stringify(name)}: an entry leads outside the archive's folder (..)`);
  return parts.join("/");
}

const TYPE_NAMES: Record<string, string> = { "1": "a hard link", "2": "a symbolic link", "3": "a character device", "4": "a block device", "6": "a fifo" };

/** Unpacks the .tar.gz at `path` into the folder `into` (which must exist); answers the files written. */
export async function unpackTarGz(path: string, into: string, limits: TarLimits = {}): Promise<string[]> {
  const maxTotalBytes = limits.maxTotalBytes ?? 8 * 1024 ** 3;
  const maxEntries = limits.maxEntries ?? 100_000;
  // pipeline carries a read error into the gunzip stream; stop() ends both when reading stops early
  // (the end blocks come before the file's end, or an entry is refused), and any error after that
  // (a write still in flight into the stopped gunzip stream) no longer matters.
  const input = createReadStream(path);
  const gunzip = pipeline(input, createGunzip(), () => undefined);
  const stop = (): void => {
    input.destroy();
    gunzip.on("error", () => undefined);
    gunzip.destroy();
  };
  const reader = new ByteReader(gunzip);
  const names: string[] = [];
  let total = 0;
  let entries = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header === undefined) throw new TarFormatError("the archive ends without its end-of-archive blocks (truncated)");
      if (header.every((byte) => byte === 0)) break;
      if (!checksumMatches(header)) throw new TarFormatError(entries === 0 ? "not a tar archive (the first header's checksum does not match)" : "a header's checksum does not match (damaged archive)");
      if (++entries > maxEntries) throw new TarFormatError(`the archive holds more than ${maxEntries} entries`);
      const type = text(header, 156, 1) || "0";
      const size = numberField(header, 124, 12, "an entry's size");
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (type === "x" || type === "g" || type === "L") {
        if (size > MAX_EXTENDED_HEADER) throw new TarFormatError(`an extended header of ${size} bytes is larger than ${MAX_EXTENDED_HEADER}`);
        // Extended headers are inflated too: they count against the archive's limit like files.
        total += size;
        if (total > maxTotalBytes) throw new TarFormatError(`the archive unpacks to more than ${maxTotalBytes} bytes`);
        const data = (await reader.read(padded))?.subarray(0, size) ?? Buffer.alloc(0);
        if (type === "x") pax = paxRecords(data);
        else if (type === "L") longName = data.toString("utf8").replace(/\0+$/, "");
        continue;
      }
      const prefix = text(header, 257, 6).startsWith("ustar") ? text(header, 345, 155) : "";
      const written = pax.get("path") ?? longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
      const dataSize = pax.has("size") ? Number(pax.get("size")) : size;
      pax = new Map();
      longName = undefined;
      if (type === "K") throw new TarFormatError(`${JSON.stringify(written)}: the archive holds a link, which is not unpacked`);
      const kind = TYPE_NAMES[type];
      if (kind !== undefined) throw new TarFormatError(`${JSON.stringify(written)}: the archive holds ${kind}, which is not unpacked`);
      const name = safeName(written);
      if (type === "5") {
        // A folder holds no data; bytes under it would be inflated without counting against the limit.
        if (size !== 0 || dataSize !== 0) throw new TarFormatError(`${JSON.stringify(written)}: a folder entry holds ${Math.max(size, dataSize)} bytes of data; a folder entry's size must be 0`);
        if (name !== "") mkdirSync(join(into, name), { recursive: true, mode: 0o700 });
        continue;
      }
      if (type !== "0" && type !== "7") throw new TarFormatError(`${JSON.stringify(written)}: entry type ${JSON.stringify(type)} is not unpacked`);
      if (name === "") throw new TarFormatError("a file entry has no name");
      if (!Number.isSafeInteger(dataSize) || dataSize < 0) throw new TarFormatError(`${JSON.stringify(written)}: its size is not a number`);
      total += dataSize;
      if (total > maxTotalBytes) throw new TarFormatError(`${name}: the archive unpacks to more than ${maxTotalBytes} bytes`);
      const target = join(into, name);
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      // "wx": never through a file or link already there, never over another entry.
      const out = createWriteStream(target, { flags: "wx", mode: 0o600 });
      try {
        await once(out, "open");
        await reader.copy(dataSize, out);
        out.end();
        await once(out, "close");
      } catch (error) {
        // A write still in flight fails once the stream is destroyed; the entry has failed already.
        out.on("error", () => undefined);
        out.destroy();
        if (error instanceof TarFormatError) throw error;
        throw new TarFormatError(`${name}: ${(error as Error).message}`, { cause: error });
      }
      await reader.copy(Math.ceil(dataSize / BLOCK) * BLOCK - dataSize, undefined);
      names.push(name);
    }
  } catch (error) {
    stop();
    if (error instanceof TarFormatError) throw error;
    throw new TarFormatError(`not a gzipped tar archive, or a damaged one (${(error as Error).message})`, { cause: error });
  }
  stop();
  return names;
}
