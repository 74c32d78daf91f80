/**
 * A full disk on a local volume (a 1 MiB tmpfs mounted for the test; needs root, as the test
 * machines and CI run): an upload that does not fit fails with no_space and a message saying so,
 * leaves nothing under its name and no temporary file, and the volume keeps working.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStorage, StorageError } from "../../src/storage/index.js";

describe("local volume on a full disk", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "capstan-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", root]);
  });
  afterAll(async () => {
    execFileSync("umount", [root]);
    await rm(root, { recursive: true, force: true });
  });

  it("fails an upload that does not fit with no_space, leaving nothing behind", async () => {
    const storage = new LocalStorage({ root });
    const big = Readable.from(Array.from({ length: 4 }, () => Buffer.alloc(512 * 1024, 1)));
    const error = await storage.write("big.bin", big).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).storageCode).toBe("no_space");
    expect((error as StorageError).kind).toBe("quota");
    expect((error as StorageError).message).toMatch(/no space left on the volume for "big\.bin" \(disk full\)/);
    expect(await readdir(root)).toEqual([]);
    await storage.write("small.txt", Readable.from(["still works"]));
    expect((await storage.list("")).entries.map((e) => e.name)).toEqual(["small.txt"]);
  });
});
