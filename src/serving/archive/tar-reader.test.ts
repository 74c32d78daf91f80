/**
 * unpackTarGz reads what Python's tarfile writes (PAX, long names, folders) and refuses damaged
 * archives, entries that escape the folder, links and devices, and archives past their limits.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { python } from "../../../test/serving/support/serve-harness.js";
import { TarFormatError, unpackTarGz } from "./tar-reader.js";

let dir: string;
let into: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "capstan-tar-"));
  into = join(dir, "out");
  mkdirSync(into);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a .tar.gz with Python's tarfile; `entries` is Python code adding members to `tar` (helpers: add_file, add). */
function archive(entries: string, format = "PAX_FORMAT"): string {
  const path = join(dir, "a.tar.gz");
  const script = `
import io, sys, tarfile
tar = tarfile.open(sys.argv[1], "w:gz", format=tarfile.${format})
def add_file(name, data=b"", **fields):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))
def add(name, type, **fields):
    info = tarfile.TarInfo(name)
    info.type = type
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info)
${entries}
tar.close()
`;
  writeFileSync(join(dir, "make.py"), script);
  execFileSync(python, [join(dir, "make.py"), path]);
  return path;
}

describe("unpackTarGz", () => {
  it("unpacks files byte for byte, folders, long names (PAX and GNU) and a model folder at the top", async () => {
    const long = `${"d".repeat(120)}/${"f".repeat(150)}.bin`;
    const path = archive(`
add("packed", tarfile.DIRTYPE)
add_file("packed/MAR-INF/MANIFEST.json", b"{}")
add_file("packed/weights.bin", bytes(range(256)) * 4000)
add_file("${long}", b"long")
add_file("./packed/sub/../sub2/x.py", b"x")
`);
    await expect(unpackTarGz(path, into)).rejects.toThrow(/leads outside the archive's folder \(\.\.\)/);
    rmSync(into, { recursive: true });
    mkdirSync(into);
    const ok = archive(`
add("packed", tarfile.DIRTYPE)
add_file("packed/MAR-INF/MANIFEST.json", b"{}")
add_file("packed/weights.bin", bytes(range(256)) * 4000)
add_file("${long}", b"long")
add("empty", tarfile.DIRTYPE)
`);
    expect(await unpackTarGz(ok, into)).toEqual(["packed/MAR-INF/MANIFEST.json", "packed/weights.bin", long]);
    expect(readFileSync(join(into, "packed", "weights.bin")).equals(Buffer.from(Array.from({ length: 256 * 4000 }, (_, i) => i % 256)))).toBe(true);
    expect(readFileSync(join(into, long), "utf8")).toBe("long");
    expect(existsSync(join(into, "empty"))).toBe(true);

    const gnu = archive(`add_file("${long}", b"gnu")`, "GNU_FORMAT");
    const gnuInto = join(dir, "gnu");
    mkdirSync(gnuInto);
    expect(await unpackTarGz(gnu, gnuInto)).toEqual([long]);
  });

  it.each([
    ["a name that climbs", `add_file("../evil.txt", b"x")`, /evil\.txt.*leads outside the archive's folder \(\.\.\)/],
    ["an absolute name", `add_file("/tmp/evil.txt", b"x")`, /leads outside the archive's folder \(absolute path/],
    ["a backslash", `add_file("a\\\\..\\\\evil.txt", b"x")`, /leads outside the archive's folder/],
    ["a symbolic link", `add("link", tarfile.SYMTYPE, linkname="/etc/passwd")`, /"link": the archive holds a symbolic link, which is not unpacked/],
    ["a hard link", `add_file("a", b"x")\nadd("hard", tarfile.LNKTYPE, linkname="a")`, /"hard": the archive holds a hard link/],
    ["a device", `add("dev", tarfile.CHRTYPE)`, /"dev": the archive holds a character device/],
    ["a fifo", `add("fifo", tarfile.FIFOTYPE)`, /"fifo": the archive holds a fifo/],
    ["a file given twice", `add_file("a", b"x")\nadd_file("a", b"y")`, /^a: .*EEXIST/],
  ])("refuses %s, writing nothing outside the folder", async (_what, entries, message) => {
    await expect(unpackTarGz(archive(entries), into)).rejects.toThrow(message);
    expect(readdirSync(dir).sort()).toEqual(["a.tar.gz", "make.py", "out"]);
  });

  it("refuses archives past the size and entry limits", async () => {
    const big = archive(`add_file("a.bin", b"0" * 5000)\nadd_file("b.bin", b"0" * 5000)`);
    await expect(unpackTarGz(big, into, { maxTotalBytes: 8000 })).rejects.toThrow("b.bin: the archive unpacks to more than 8000 bytes");
    // Data hidden under folder entries is refused, not inflated uncounted past the limit.
    const underFolders = archive(`for i in range(4):\n    add_file(f"d{i}", b"0" * 5000, type=tarfile.DIRTYPE)`);
    await expect(unpackTarGz(underFolders, into, { maxTotalBytes: 8000 })).rejects.toThrow('"d0/": a folder entry holds 5000 bytes of data');
    // Extended headers count against the limit too.
    const paxHeaders = archive(`for i in range(4):\n    add_file(f"f{i}", b"", pax_headers={"comment": "x" * 3000})`);
    await expect(unpackTarGz(paxHeaders, mkdtempSync(join(dir, "pax-")), { maxTotalBytes: 8000 })).rejects.toThrow("the archive unpacks to more than 8000 bytes");
    const many = archive(`for i in range(20):\n    add_file(f"f{i}", b"")`);
    await expect(unpackTarGz(many, join(dir, "out"), { maxEntries: 10 })).rejects.toThrow("the archive holds more than 10 entries");
  });

  it("refuses what is not a gzipped tar, and truncated or damaged ones", async () => {
    const notGzip = join(dir, "zip.tar.gz");
    writeFileSync(notGzip, "PK\u0003\u0004 not a gzip");
    await expect(unpackTarGz(notGzip, into)).rejects.toThrow(TarFormatError);
    const notTar = join(dir, "text.tar.gz");
    writeFileSync(notTar, gzipSync(Buffer.alloc(1024, "x")));
    await expect(unpackTarGz(notTar, into)).rejects.toThrow("not a tar archive (the first header's checksum does not match)");
    const whole = readFileSync(archive(`add_file("a.bin", bytes(range(256)) * 100)`));
    const truncated = join(dir, "cut.tar.gz");
    writeFileSync(truncated, gzipSync(execFileSync("gzip", ["-dc"], { input: whole }).subarray(0, 5000)));
    await expect(unpackTarGz(truncated, join(dir, "out"))).rejects.toThrow(/truncated/);
  });
});
