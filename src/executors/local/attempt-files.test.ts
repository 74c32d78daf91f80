import { describe, expect, it } from "vitest";
import { attemptCgroupFrom } from "./local-executor.js";

describe("the cgroup an attempt's folder names", () => {
  it("is taken only when it is the folder made for the attempt's token (the task may write that file)", () => {
    expect(attemptCgroupFrom("/sys/fs/cgroup/capstan/a-tok1", "tok1")).toBe("/sys/fs/cgroup/capstan/a-tok1");
    expect(attemptCgroupFrom("/sys/fs/cgroup/system.slice", "tok1")).toBeNull();
    expect(attemptCgroupFrom("/sys/fs/cgroup/capstan/a-other", "tok1")).toBeNull();
    expect(attemptCgroupFrom("/sys/fs/cgroup/capstan/../../a-tok1", "tok1")).toBeNull();
    expect(attemptCgroupFrom("a-tok1", "tok1")).toBeNull();
    expect(attemptCgroupFrom("", "tok1")).toBeNull();
  });
});
