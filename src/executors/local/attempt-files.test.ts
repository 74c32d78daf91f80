import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { attemptCgroup } from "./local-executor.js";

describe("the cgroup of an attempt found after a restart", () => {
  it("is the folder made for its token under the platform's cgroup, whatever the attempt's folder says (the task may write it)", () => {
    const parent = mkdtempSync(join(tmpdir(), "capstan-cgroup-"));
    mkdirSync(join(parent, "a-tok1"));
    const containment = { kind: "cgroup" as const, parent, memory: false, killFile: true };
    expect(attemptCgroup(containment, "tok1")).toBe(join(parent, "a-tok1"));
    // gone (ended, or another parent since the restart): the token finds the processes instead
    expect(attemptCgroup(containment, "tok2")).toBeNull();
    expect(attemptCgroup({ kind: "token", why: "no cgroup" }, "tok1")).toBeNull();
  });
});
