/** The view storage's own rules: paging its folders in S3 key order, mounts re-prefixed, fixed folders never written, no moves across mounts. */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { LocalStorage } from "../local/local-storage.js";
import { StorageError } from "../storage-error.js";
import { VirtualTreeStorage, type TreeNode } from "./virtual-tree-storage.js";

async function view() {
  const roots = { a: await mkdtemp(join(tmpdir(), "capstan-view-a-")), b: await mkdtemp(join(tmpdir(), "capstan-view-b-")) };
  const mounts = { a: new LocalStorage({ root: roots.a }), b: new LocalStorage({ root: roots.b }) };
  const names = ["b", "a", "c-d", "c", "é"];
  const storage = new VirtualTreeStorage(
    (segments): Promise<TreeNode | undefined> => {
      const [first, ...rest] = segments;
      if (first === undefined) return Promise.resolve({ kind: "folder", children: () => Promise.resolve(names.map((name) => ({ name, type: "folder" as const, size: 0, modified: undefined }))) });
      if (first === "a" || first === "b") return Promise.resolve({ kind: "mount", storage: mounts[first], prefix: first, inner: rest.join("/") });
      if (first === "c" && rest.length === 0) return Promise.resolve({ kind: "folder", children: () => Promise.resolve([{ name: "note.txt", type: "file" as const, size: 10, modified: 1 }]) });
      if (first === "c" && rest.join("/") === "note.txt") return Promise.resolve({ kind: "file", modified: 1, content: () => Promise.resolve(Buffer.from("hello note")) });
      return Promise.resolve(names.includes(first) && rest.length === 0 ? { kind: "folder", children: () => Promise.resolve([]) } : undefined);
    },
    { fixedFolderMessage: "these folders are fixed" },
  );
  return { storage, roots };
}

async function failure(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

describe("VirtualTreeStorage", () => {
  it("pages its own folders in S3 key order and refuses a cursor it did not give", async () => {
    const { storage } = await view();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await storage.list("", { limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((e) => e.name));
      cursor = page.next;
    } while (cursor !== undefined);
    // "c-d/" sorts before "c/" as S3 compares keys: '-' (0x2d) < '/' (0x2f).
    expect(seen).toEqual(["a", "b", "c-d", "c", "é"]);
    expect((await failure(storage.list("", { cursor: "not a cursor!" }))).storageCode).toBe("invalid_argument");
  });

  it("writes, reads and lists inside mounts with the view's paths, and never its own folders", async () => {
    const { storage, roots } = await view();
    const written = await storage.write("a/x/data.txt", Readable.from([Buffer.from("data")]));
    expect(written.path).toBe("a/x/data.txt");
    expect(await readFile(join(roots.a, "x", "data.txt"), "utf8")).toBe("data");
    expect((await storage.list("a/x")).entries.map((e) => e.path)).toEqual(["a/x/data.txt"]);
    expect(await storage.stat("a")).toMatchObject({ name: "a", path: "a", type: "folder" });
    expect((await storage.search("", "DATA")).map((e) => e.path)).toEqual(["a/x/data.txt"]);
    const walked: string[] = [];
    for await (const entry of storage.walk("")) walked.push(entry.path);
    expect(walked).toContain("a/x/data.txt");
    expect(walked).toContain("c/note.txt");

    for (const attempt of [storage.write("stray.txt", Readable.from([])), storage.mkdir("new"), storage.delete("a"), storage.delete("c"), storage.write("c/note.txt", Readable.from([]))])
      expect((await failure(attempt)).message).toMatch(/these folders are fixed/);
    expect((await failure(storage.move("a/x/data.txt", "b/data.txt"))).storageCode).toBe("invalid_argument");
    expect((await failure(storage.copy("a/x", "b/x"))).storageCode).toBe("invalid_argument");
    expect((await storage.copy("a/x/data.txt", "a/y.txt")).path).toBe("a/y.txt");
    expect((await failure(storage.list("nope"))).storageCode).toBe("not_found");
    expect((await failure(storage.list("a/../b"))).storageCode).toBe("invalid_path");
  });

  it("reads a view file whole or by range", async () => {
    const { storage } = await view();
    expect(await text((await storage.read("c/note.txt")).stream)).toBe("hello note");
    const range = await storage.read("c/note.txt", { start: 6, end: 100 });
    expect([range.start, range.end, range.size]).toEqual([6, 9, 10]);
    expect(await text(range.stream)).toBe("note");
    expect((await failure(storage.read("c/note.txt", { start: 10 }))).storageCode).toBe("invalid_range");
    expect((await failure(storage.read("c"))).storageCode).toBe("wrong_type");
    expect((await failure(storage.list("c/note.txt"))).storageCode).toBe("wrong_type");
  });
});
