import { describe, expect, it } from "vitest";
import { MIN_REDACTED_LENGTH, SecretMask, maskedForms } from "./secret-mask.js";

describe("maskedForms", () => {
  it("covers the value raw, JSON-escaped (also as Python writes non-ASCII), in Python's repr, HTML-escaped and escaped twice", () => {
    const forms = maskedForms('a"b\\c<d\'Ω');
    expect(forms).toEqual(
      expect.arrayContaining([
        'a"b\\c<d\'Ω',
        'a\\"b\\\\c<d\'Ω',
        'a\\"b\\\\c<d\'\\u03a9',
        // Python's repr() (a notebook showing a string value).
        'a"b\\\\c<d\\\'Ω',
        'a"b\\c&lt;d\'Ω',
        "a&quot;b\\c&lt;d&#39;Ω",
        "a&quot;b\\c&lt;d&#x27;Ω",
        // JSON in JSON (a printed JSON string captured in a notebook), JSON in HTML.
        'a\\\\\\"b\\\\\\\\c<d\'Ω',
        "a\\&quot;b\\\\c&lt;d&#39;Ω",
      ]),
    );
  });

  it("masks long lines of a multi-line value on their own, and the value with CRLF or whitespace made one space", () => {
    const forms = maskedForms("-----BEGIN KEY-----\nabc\r\nMIIEvQIBADANBg\n");
    expect(forms).toEqual(expect.arrayContaining(["-----BEGIN KEY-----", "MIIEvQIBADANBg", "-----BEGIN KEY-----\r\nabc\r\nMIIEvQIBADANBg\r\n", "-----BEGIN KEY----- abc MIIEvQIBADANBg"]));
    expect(forms).not.toContain("abc");
  });

  it(`leaves values shorter than ${MIN_REDACTED_LENGTH} characters alone`, () => {
    expect(maskedForms("abc")).toEqual([]);
    expect(SecretMask.of(["1", "ok"]).maskText("1 ok 1")).toBe("1 ok 1");
  });
});

describe("SecretMask", () => {
  const mask = SecretMask.of(["hunter2", "aaaa", "hunter2-long"]);

  it("masks every occurrence, one *** per contiguous masked piece, overlapping and adjacent ones included", () => {
    expect(mask.maskText("pw hunter2 and hunter2.")).toBe("pw *** and ***.");
    expect(mask.maskText("hunter2hunter2 aaaaaa hunter2-long!")).toBe("*** *** ***!");
    expect(mask.maskText("nothing here")).toBe("nothing here");
    expect(SecretMask.none.maskText("hunter2")).toBe("hunter2");
  });

  it("finds the byte ranges of occurrences and where an unfinished one may begin", () => {
    const bytes = Buffer.from("x hunter2 hun");
    expect(mask.coverage(bytes)).toEqual([[2, 9]]);
    expect(mask.unfinishedFrom(bytes)).toBe(10);
    // A whole value that may be the start of a longer one is unfinished too.
    expect(mask.unfinishedFrom(Buffer.from("x hunter2"))).toBe(2);
    expect(mask.unfinishedFrom(Buffer.from("x hunter2-longer"))).toBe(16);
    expect(mask.unfinishedFrom(Buffer.from("aaa"))).toBe(0);
  });
});
