/** readZip reads what zip writers produce and refuses damaged archives and entries that escape. */
import { describe, expect, it } from "vitest";
import { zip } from "../../../test/serving/support/mar-builder.js";
import { readZip, ZipFormatError } from "./zip-reader.js";

describe("readZip", () => {
  it("reads deflated entries back byte for byte", () => {
    const data = Buffer.from("x".repeat(10_000));
    const entries = readZip(zip([["a.py", data], ["MAR-INF/MANIFEST.json", Buffer.from("{}")]]));
    expect(entries.map((e) => e.name)).toEqual(["a.py", "MAR-INF/MANIFEST.json"]);
    expect(entries[0]!.read().equals(data)).toBe(true);
  });

  it("refuses text that is not a zip, and a truncated zip", () => {
    expect(() => readZip(Buffer.from("hello"))).toThrow(ZipFormatError);
    const whole = zip([["a", Buffer.from("abc")]]);
    expect(() => readZip(whole.subarray(0, whole.length - 5))).toThrow(ZipFormatError);
  });

  it.each(["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\..\\x"])("refuses the entry name %s", (name) => {
    expect(() => readZip(zip([[name, Buffer.from("x")]]))).toThrow(ZipFormatError);
  });
});
