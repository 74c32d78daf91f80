/** Unit tests of the volume path check and of the S3 key order. */
import { describe, expect, it } from "vitest";
import { compareUtf8 } from "./name-order.js";
import { StorageError } from "./storage-error.js";
import { insideRoot, isSameOrInside, normalizePath } from "./storage-path.js";

describe("normalizePath", () => {
  it("keeps relative paths and drops one trailing slash", () => {
    expect(normalizePath("")).toBe("");
    expect(normalizePath("raw/2026/data.csv")).toBe("raw/2026/data.csv");
    expect(normalizePath("raw/")).toBe("raw");
    expect(normalizePath("..hidden/a..b/...")).toBe("..hidden/a..b/...");
  });

  it.each([
    ["..", /"\.\." segment/],
    ["a/%2e%2e", /percent-encoded/],
    ["%252E%252E", /percent-encoded/],
    ["x/..%2Fy", /percent-encoded separator/],
    ["/abs", /absolute/],
    ["C:/x", /drive letter/],
    ["a\\b", /backslash/],
    ["a\0b", /NUL/],
    ["a//b", /empty segment/],
    ["n".repeat(256), /255 are allowed/],
  ])("refuses %j saying why", (input, message) => {
    expect(() => normalizePath(input)).toThrow(StorageError);
    expect(() => normalizePath(input)).toThrow(message);
  });
});

describe("containment", () => {
  it("does not take /v/scopeX for a place inside /v/scope", () => {
    expect(insideRoot("/v/scope", "/v/scope")).toBe(true);
    expect(insideRoot("/v/scope", "/v/scope/a")).toBe(true);
    expect(insideRoot("/v/scope", "/v/scopeX")).toBe(false);
    expect(insideRoot("/v/scope/", "/v/scopeX/a")).toBe(false);
    expect(isSameOrInside("a/b", "a/bc")).toBe(false);
    expect(isSameOrInside("a/b", "a/b/c")).toBe(true);
  });
});

describe("compareUtf8", () => {
  it("orders as UTF-8 bytes do, surrogate pairs after U+E000..U+FFFF", () => {
    const names = ["😀", "\uE000", "z", "a/", "a.txt", "a", "é"];
    const byBytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...names].sort(compareUtf8)).toEqual(byBytes);
  });
});
