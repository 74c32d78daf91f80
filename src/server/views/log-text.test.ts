import { describe, expect, it } from "vitest";
import { MAX_HELD_BYTES, splitAtLineEnd } from "./log-text.js";

describe("splitAtLineEnd", () => {
  it("sends whole lines and holds back the unfinished one", () => {
    expect(splitAtLineEnd("a\nb\npart", false)).toEqual({ send: "a\nb\n", hold: "part" });
    expect(splitAtLineEnd("a\n", false)).toEqual({ send: "a\n", hold: "" });
    expect(splitAtLineEnd("part", false)).toEqual({ send: "", hold: "part" });
  });

  it("sends everything at the end of the log, or when a line grows too long", () => {
    expect(splitAtLineEnd("a\npart", true)).toEqual({ send: "a\npart", hold: "" });
    const long = "x".repeat(MAX_HELD_BYTES + 1);
    expect(splitAtLineEnd(long, false)).toEqual({ send: long, hold: "" });
    expect(splitAtLineEnd(`a\n${long}`, false)).toEqual({ send: `a\n${long}`, hold: "" });
  });
});
