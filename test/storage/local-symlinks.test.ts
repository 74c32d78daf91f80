/**
 * Symbolic links on local volumes (S3 has none): a link that leads outside the volume — to a
 * sibling folder whose name extends the volume's ("scopeX" beside "scope"), or to an absolute
 * path — is refused for reading, listing, writing through and zipping, and nothing outside is
 * read or changed; links that stay inside work like what they point at.
 */
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buffer, text } from "node:stream/consumers";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalStorage, StorageError, zipFolder } from "../../src/storage/index.js";
import { localBackend, SECRET, type BackendUnderTest } from "./backends.js";

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(StorageError);
  return (error as StorageError).storageCode;
}

describe("local volume and symbolic links", () => {
  let backend: BackendUnderTest;
  let storage: LocalStorage;
  let root: string;
  let outside: string;
  beforeEach(async () => {
    backend = await localBackend.open();
    storage = backend.storage as LocalStorage;
    outside = backend.outsideDir ?? "";
    root = join(outside, "..", "scope");
    await writeFile(join(root, "inside.txt"), "inside\n");
    await mkdir(join(root, "real"));
    await writeFile(join(root, "real", "r.txt"), "r\n");
    await symlink("../scopeX", join(root, "escape"));
    await symlink(join(outside, "secret.txt"), join(root, "secret-link.txt"));
    await symlink("/etc", join(root, "etc"));
    await symlink("real", join(root, "alias"));
    await symlink("inside.txt", join(root, "inside-link.txt"));
  });
  afterEach(() => backend.close());

  it("refuses to read, stat or list through a link that leads outside", async () => {
    expect(await code(storage.read("escape/secret.txt"))).toBe("outside_volume");
    expect(await code(storage.read("secret-link.txt"))).toBe("outside_volume");
    expect(await code(storage.stat("escape"))).toBe("outside_volume");
    expect(await code(storage.list("escape"))).toBe("outside_volume");
    expect(await code(storage.list("etc"))).toBe("outside_volume");
    expect(await code(storage.read("etc/passwd"))).toBe("outside_volume");
    expect(await code(storage.search("escape", "secret"))).toBe("outside_volume");
  });

  it("refuses to write, make folders, copy or move through a link that leads outside, and changes nothing there", async () => {
    expect(await code(storage.write("escape/new.txt", Readable.from(["evil"])))).toBe("outside_volume");
    expect(await code(storage.write("escape/secret.txt", Readable.from(["evil"]), { overwrite: true }))).toBe("outside_volume");
    expect(await code(storage.mkdir("escape/sub"))).toBe("outside_volume");
    expect(await code(storage.copy("inside.txt", "escape/copied.txt"))).toBe("outside_volume");
    expect(await code(storage.move("inside.txt", "escape/moved.txt"))).toBe("outside_volume");
    expect(await code(storage.copy("escape", "stolen"))).toBe("outside_volume");
    expect(await readdir(outside)).toEqual(["secret.txt"]);
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe(SECRET);
    expect(await readFile(join(root, "inside.txt"), "utf8")).toBe("inside\n");
  });

  it("leaves links that lead outside out of listings, searches and zips", async () => {
    const names = (await storage.list("")).entries.map((e) => `${e.type}:${e.name}`);
    expect(names).toEqual(["folder:alias", "file:inside-link.txt", "file:inside.txt", "folder:real"]);
    expect((await storage.search("", "secret")).map((e) => e.path)).toEqual([]);
    const zipped = (await buffer(await zipFolder(storage, ""))).toString("latin1");
    expect(zipped).not.toContain("outside the volume");
    expect(zipped).not.toContain("secret.txt");
    expect(zipped).toContain("inside.txt");
  });

  it("follows links that stay inside the volume", async () => {
    expect(await text((await storage.read("alias/r.txt")).stream)).toBe("r\n");
    expect(await text((await storage.read("inside-link.txt")).stream)).toBe("inside\n");
    expect((await storage.list("alias")).entries.map((e) => e.path)).toEqual(["alias/r.txt"]);
  });

  it("deletes a link itself, never what it points at", async () => {
    await storage.delete("escape");
    await expect(lstat(join(root, "escape"))).rejects.toThrow();
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe(SECRET);
  });

  it("replaces a link with the uploaded file rather than writing through it", async () => {
    await storage.write("secret-link.txt", Readable.from(["replaced"]), { overwrite: true });
    expect((await lstat(join(root, "secret-link.txt"))).isSymbolicLink()).toBe(false);
    expect(await readFile(join(root, "secret-link.txt"), "utf8")).toBe("replaced");
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe(SECRET);
  });
});
