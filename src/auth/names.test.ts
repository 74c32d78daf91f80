import { describe, expect, it } from "vitest";
import { AuthInputError } from "./errors.js";
import { checkTeamName, checkUsername } from "./names.js";

describe("names", () => {
  it("accepts lowercase ASCII usernames and refuses case, spaces and look-alike unicode", () => {
    expect(checkUsername("ana.m-2")).toBe("ana.m-2");
    for (const bad of ["Ana", "ana m", "аna", "1ana", "", "a".repeat(64), "ana/b"]) expect(() => checkUsername(bad)).toThrow(AuthInputError);
  });

  it("accepts team names like pipeline files write them", () => {
    expect(checkTeamName("Data-Science_2")).toBe("Data-Science_2");
    expect(() => checkTeamName("-team")).toThrow(/team name "-team" is not valid/);
  });
});
