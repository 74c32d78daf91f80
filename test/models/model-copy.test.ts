/**
 * Registering a model copies it without following links: a task of the same run that swaps a model
 * file, or a folder on the way, for a link to the home's secrets between the listing and the copy
 * gets a refusal, and nothing of the secret lands in the copy. Regular folders copy byte for byte.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inspectModel } from "../../src/models/model-artifact.js";
import { copyWithoutLinks, ModelCopyRefusal } from "../../src/models/model-copy.js";
import { tempDir } from "../support/platform-harness.js";

const SECRET = "cli-token-secret";
let dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A home with a secret, and a model folder (handler, manifest, weights, a sub folder). */
function setup(): { home: string; model: string; secret: string; out: string } {
  const home = tempDir("capstan-model-copy-");
  dirs.push(home);
  const secret = join(home, "cli-token");
  writeFileSync(secret, SECRET);
  const model = join(home, "artifacts", "run", "model");
  mkdirSync(join(model, "MAR-INF"), { recursive: true });
  mkdirSync(join(model, "sub"));
  writeFileSync(join(model, "handler.py"), "def handle(data, context):\n    return data\n");
  writeFileSync(join(model, "MAR-INF", "MANIFEST.json"), JSON.stringify({ runtime: "python", model: { modelName: "m", handler: "handler.py", modelVersion: "1.0" } }));
  writeFileSync(join(model, "weights.bin"), "weights");
  writeFileSync(join(model, "sub", "weights.bin"), "sub weights");
  return { home, model, secret, out: join(home, "out") };
}

/** Every file's content under `dir`, as one string (to look for the secret). */
const everything = (dir: string): string => (existsSync(dir) ? execFileSync("sh", ["-c", `find "${dir}" -type f -exec cat {} +`]).toString() : "");

describe("copyWithoutLinks", () => {
  it("copies a folder byte for byte", () => {
    const { model, out } = setup();
    copyWithoutLinks(model, out);
    expect(readFileSync(join(out, "weights.bin"), "utf8")).toBe("weights");
    expect(readFileSync(join(out, "sub", "weights.bin"), "utf8")).toBe("sub weights");
  });

  it("refuses a file swapped for a link to a home secret just before it is opened", () => {
    const { model, secret, out } = setup();
    const swap = (relativePath: string): void => {
      if (relativePath !== "weights.bin") return;
      rmSync(join(model, "weights.bin"));
      symlinkSync(secret, join(model, "weights.bin"));
    };
    expect(() => copyWithoutLinks(model, out, { beforeOpen: swap })).toThrow(ModelCopyRefusal);
    expect(() => copyWithoutLinks(model, join(out, "again"))).toThrow("weights.bin is a symbolic link");
    expect(everything(out)).not.toContain(SECRET);
  });

  it("refuses a folder on the way swapped for a link after it was listed", () => {
    const { home, model, out } = setup();
    const elsewhere = join(home, "elsewhere");
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, "weights.bin"), SECRET);
    const swap = (relativePath: string): void => {
      if (relativePath !== join("sub", "weights.bin")) return;
      renameSync(join(model, "sub"), join(home, "sub-moved"));
      symlinkSync(elsewhere, join(model, "sub"));
    };
    expect(() => copyWithoutLinks(model, out, { beforeOpen: swap })).toThrow(/sub\/weights\.bin is reached through a symbolic link/);
    expect(everything(out)).not.toContain(SECRET);
  });

  it("refuses the top swapped for a link, and a fifo without waiting for a writer", () => {
    const { model, secret, out } = setup();
    const top = join(model, "weights.bin");
    const swap = (relativePath: string): void => {
      if (relativePath !== "") return;
      rmSync(top);
      symlinkSync(secret, top);
    };
    expect(() => copyWithoutLinks(top, out, { beforeOpen: swap })).toThrow(ModelCopyRefusal);
    expect(everything(out)).not.toContain(SECRET);
    rmSync(top);
    execFileSync("mkfifo", [join(model, "piped")]);
    expect(() => copyWithoutLinks(model, `${out}-fifo`)).toThrow("piped is neither a file nor a folder");
  });
});

describe("inspectModel", () => {
  it("refuses a link in the model folder and keeps no copy of its target", async () => {
    const { home, model, secret } = setup();
    rmSync(join(model, "weights.bin"));
    symlinkSync(secret, join(model, "weights.bin"));
    await expect(inspectModel(model, home)).rejects.toThrow("path: weights.bin in the model folder is a symbolic link");
    expect(everything(join(home, "tmp"))).not.toContain(SECRET);
  });

  it("hashes a model folder it copied", async () => {
    const { home, model } = setup();
    const inspected = await inspectModel(model, home);
    try {
      expect(inspected.kind).toBe("dir");
      expect(inspected.files).toEqual(["MAR-INF/MANIFEST.json", "handler.py", "sub/weights.bin", "weights.bin"]);
      expect(inspected.sizeBytes).toBe(readFileSync(join(model, "MAR-INF", "MANIFEST.json")).length + readFileSync(join(model, "handler.py")).length + 18);
      expect(inspected.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      inspected.discard();
    }
  });
});
