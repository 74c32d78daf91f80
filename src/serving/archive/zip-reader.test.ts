/** unpackZip reads what Python's zipfile writes and refuses damaged archives and entries that escape. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { zip, type ZipEntryOptions } from "../../../test/serving/support/mar-builder.js";
import { unpackZip, ZipFormatError } from "./zip-reader.js";

let dir: string;
let into: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "capstan-zip-"));
  into = join(dir, "out");
  mkdirSync(into);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function archive(entries: Array<[string, Buffer, ZipEntryOptions?]>): string {
  const path = join(dir, "a.mar");
  writeFileSync(path, zip(entries));
  return path;
}

function unpack(path: string, max?: number): Promise<string[]> {
  return unpackZip(path, into, max);
}

describe("unpackZip", () => {
  it("unpacks deflated entries byte for byte, folders included", async () => {
    const data = Buffer.from("x".repeat(100_000));
    const names = await unpack(archive([["a.py", data], ["sub/b.txt", Buffer.from("b")], ["MAR-INF/MANIFEST.json", Buffer.from("{}")]]));
    expect(names).toEqual(["a.py", "sub/b.txt", "MAR-INF/MANIFEST.json"]);
    expect(readFileSync(join(into, "a.py")).equals(data)).toBe(true);
    expect(readFileSync(join(into, "sub", "b.txt"), "utf8")).toBe("b");
  });

  it("refuses text that is not a zip, and a truncated zip", async () => {
    const text = join(dir, "text.mar");
    writeFileSync(text, "hello");
    await expect(unpack(text)).rejects.toThrow(ZipFormatError);
    const whole = zip([["a", Buffer.from("abc")]]);
    const truncated = join(dir, "truncated.mar");
    writeFileSync(truncated, whole.subarray(0, whole.length - 5));
    await expect(unpack(truncated)).rejects.toThrow(ZipFormatError);
  });

  it.each(["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\..\\x"])("refuses the entry name %s and writes nothing outside", async (name) => {
    await expect(unpack(archive([[name, Buffer.from("x")]]))).rejects.toThrow(ZipFormatError);
    expect(readdirSync(dir).sort()).toEqual(["a.mar", "out"]);
  });

  it("refuses a symbolic link entry", async () => {
    await expect(unpack(archive([["link", Buffer.from("/etc/passwd"), { symlink: true }]]))).rejects.toThrow(/symbolic link/);
  });

  it("stops an archive that unpacks to more than the cap", async () => {
    await expect(unpack(archive([["big", Buffer.alloc(1_000_000)]]), 10_000)).rejects.toThrow(/more than 10000 bytes/);
  });
});
