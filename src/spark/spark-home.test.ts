import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findSparkInstall } from "./spark-home.js";

describe("the venv's Spark", () => {
  it("is found beside the interpreter through its venv link, and looked for again while missing", () => {
    const venv = mkdtempSync(join(tmpdir(), "capstan-venv-"));
    mkdirSync(join(venv, "bin"));
    symlinkSync("/usr/bin/env", join(venv, "bin", "python"));
    expect(findSparkInstall(join(venv, "bin", "python"))).toBeNull();
    const sparkHome = join(venv, "lib", "python3.12", "site-packages", "pyspark");
    mkdirSync(join(sparkHome, "bin"), { recursive: true });
    writeFileSync(join(sparkHome, "bin", "spark-submit"), "#!/bin/sh\n");
    expect(findSparkInstall(join(venv, "bin", "python"))).toEqual({ sparkHome, sparkSubmit: join(sparkHome, "bin", "spark-submit") });
  });

  it("is none for a bare interpreter name", () => {
    expect(findSparkInstall("python3")).toBeNull();
  });
});
