/** How `capstan storage` reads its arguments: VOLUME:PATH against plain local paths. */
import { describe, expect, it } from "vitest";
import { joinVolumePath, lastName, parseLocation, volumeLocation } from "./location.js";

describe("parseLocation", () => {
  it("reads NAME:PATH with a volume name as a volume location, '' and '/' as its root", () => {
    expect(parseLocation("team-data:raw/2026-11-30.csv")).toMatchObject({ kind: "volume", volume: "team-data", path: "raw/2026-11-30.csv" });
    expect(parseLocation("team-data:")).toMatchObject({ kind: "volume", volume: "team-data", path: "" });
    expect(parseLocation("team-data:/raw")).toMatchObject({ kind: "volume", volume: "team-data", path: "raw" });
  });

  it("leaves '//' and '..' for the server to refuse with its message", () => {
    expect(parseLocation("team-data://etc")).toMatchObject({ kind: "volume", path: "//etc" });
    expect(parseLocation("team-data:../x")).toMatchObject({ kind: "volume", path: "../x" });
  });

  it("reads paths that do not start with a volume name and a colon as local", () => {
    for (const text of ["./a:b", "/tmp/a:b", "data.csv", "../up/x", "C:\\data\\x.csv", "Team:x", "9lives:x", "-x:y"]) expect(parseLocation(text)).toMatchObject({ kind: "local", path: text });
  });

  it("says how to write a volume location when one is needed", () => {
    expect(() => volumeLocation("./local.txt", "rm")).toThrow(/rm "\.\/local\.txt" is not on a volume; write it as VOLUME:PATH/);
  });
});

describe("names and joins", () => {
  it("takes the last name of volume and local paths and joins folder paths", () => {
    expect(lastName("raw/2026/data.csv")).toBe("data.csv");
    expect(lastName("reports/")).toBe("reports");
    expect(lastName("")).toBe("");
    expect(joinVolumePath("", "x")).toBe("x");
    expect(joinVolumePath("raw/", "x")).toBe("raw/x");
  });
});
