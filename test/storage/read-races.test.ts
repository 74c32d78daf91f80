/**
 * A file swapped for a symbolic link between the moment its path is checked and the moment it is
 * opened (a task rewriting its artifacts or output notebook while the editor downloads them) is
 * refused, and nothing outside is served. The swap is made deterministic: LocalStorage's hook
 * between resolving and opening, the runs source answering while the run's notebooks are listed,
 * or a link put in place before the descriptor check. Also: the runs volume refuses searches and
 * zips above PIPELINE/RUN, which would walk every run's artifacts.
 */
import { renameSync, symlinkSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer, text } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalStorage, runsVolumeStorage, StorageError, zipFolder, type RunTaskOutput } from "../../src/storage/index.js";
import { openInside } from "../../src/storage/local/open-inside.js";

const SECRET = "cli-token-that-must-never-leave-the-home\n";

async function failure(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

/** Replaces `path` with a symbolic link to `target` in one rename, as a racing task would. */
async function swapForLink(path: string, target: string): Promise<void> {
  const link = `${path}.swap`;
  await symlink(target, link);
  await rename(link, path);
}

/** A local volume whose reads let `swap` run between resolving a file and opening it. */
class RacingStorage extends LocalStorage {
  swap: ((real: string) => Promise<void>) | undefined;
  protected override async opening(real: string): Promise<void> {
    await this.swap?.(real);
  }
}

let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "capstan-read-races-"));
  root = join(base, "artifacts");
  outside = join(base, "home");
  await mkdir(join(root, "model"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, "cli-token"), SECRET);
  await mkdir(join(outside, "model"));
  await writeFile(join(outside, "model", "weights.bin"), SECRET);
  await writeFile(join(root, "x"), "artifact\n");
  await writeFile(join(root, "model", "weights.bin"), "weights\n");
});

afterEach(() => rm(base, { recursive: true, force: true }));

describe("LocalStorage reads checked on the open descriptor", () => {
  it("refuses a file swapped for a link to outside after it was resolved", async () => {
    const storage = new RacingStorage({ root });
    storage.swap = (real) => swapForLink(real, join(outside, "cli-token"));
    const error = await failure(storage.read("x"));
    expect(error.storageCode).toBe("outside_volume");
    expect(error.message).not.toContain(SECRET.trim());
  });

  it("refuses a folder on the way swapped for a link to outside after the file was resolved", async () => {
    const storage = new RacingStorage({ root });
    storage.swap = async () => {
      await rename(join(root, "model"), join(root, "model-old"));
      await symlink(join(outside, "model"), join(root, "model"));
    };
    expect((await failure(storage.read("model/weights.bin"))).storageCode).toBe("outside_volume");
  });

  it("leaves the swapped file out of a zip of its folder", async () => {
    // The same size as the token, so the archive's recorded size would not give a swap away.
    await writeFile(join(root, "model", "weights.bin"), "w".repeat(SECRET.length));
    const storage = new RacingStorage({ root });
    storage.swap = async (real) => {
      if (real.endsWith("weights.bin")) await swapForLink(real, join(outside, "cli-token"));
    };
    const zipped = await buffer(await zipFolder(storage, "")).then(
      (bytes) => bytes.toString("latin1"),
      (error: unknown) => String(error),
    );
    expect(zipped).not.toContain(SECRET.trim());
  });

  it("still reads files, and links that stay inside, with the hook doing nothing", async () => {
    const storage = new RacingStorage({ root });
    await symlink("model/weights.bin", join(root, "alias"));
    expect(await text((await storage.read("x")).stream)).toBe("artifact\n");
    expect(await text((await storage.read("alias")).stream)).toBe("weights\n");
    expect(await text((await storage.read("model/weights.bin", { start: 1, end: 3 })).stream)).toBe("eig");
  });
});

describe("openInside", () => {
  for (const check of ["auto", "inode"] as const) {
    it(`refuses a path that leads outside when opened (${check} check)`, async () => {
      // The path was resolved inside; by the time it is opened, links stand in its place.
      await swapForLink(join(root, "x"), join(outside, "cli-token"));
      expect((await failure(openInside(join(root, "x"), root, "x", check))).storageCode).toBe("outside_volume");
      await rename(join(root, "model"), join(root, "model-old"));
      await symlink(join(outside, "model"), join(root, "model"));
      expect((await failure(openInside(join(root, "model", "weights.bin"), root, "model/weights.bin", check))).storageCode).toBe("outside_volume");
      const inside = await openInside(join(root, "model-old", "weights.bin"), root, "model-old/weights.bin", check);
      expect(inside.info.size).toBe("weights\n".length);
    });
  }
});

describe("the runs volume", () => {
  /** A runs volume over `base` as the home, with pipeline `pipe`, run `run` and a task `train` whose notebook is `notebook`. */
  function runsVolume(tasks: () => RunTaskOutput[]) {
    return runsVolumeStorage({
      home: base,
      pipelines: () => Promise.resolve(["pipe"]),
      runs: () => Promise.resolve([{ id: "run", createdAt: 1 }]),
      run: (pipeline, runId) => Promise.resolve(pipeline === "pipe" && runId === "run" ? { id: "run", createdAt: 1 } : undefined),
      tasks: () => Promise.resolve(tasks()),
      maskNotebook: (textOf) => Promise.resolve(textOf),
    });
  }

  let notebook: string;
  beforeEach(async () => {
    await mkdir(join(base, "artifacts", "run"));
    await writeFile(join(base, "artifacts", "run", "out.txt"), "out\n");
    const attempt = join(base, "attempts", "run", "train", "1");
    await mkdir(attempt, { recursive: true });
    notebook = join(attempt, "output.ipynb");
    await writeFile(notebook, '{"cells":[]}');
  });

  it("refuses an output notebook swapped for a link after it was listed", async () => {
    let swapped = false;
    const storage = runsVolume(() => [
      { taskId: "train", notebook },
      // Asked right after train's notebook was checked, before it is read: the task swaps it now.
      {
        taskId: "later",
        get notebook(): string | undefined {
          if (!swapped) {
            swapped = true;
            symlinkSync(join(outside, "cli-token"), `${notebook}.swap`);
            renameSync(`${notebook}.swap`, notebook);
          }
          return undefined;
        },
      },
    ]);
    const read = storage.read("pipe/run/notebooks/train.ipynb").then((result) => text(result.stream));
    const answer = await read.then((body) => body, (error: unknown) => error);
    expect(swapped).toBe(true);
    expect(answer).toBeInstanceOf(StorageError);
    expect((answer as StorageError).storageCode).toBe("outside_volume");
    expect(await readFile(join(outside, "cli-token"), "utf8")).toBe(SECRET);
  });

  it("reads an output notebook that stays in place", async () => {
    const storage = runsVolume(() => [{ taskId: "train", notebook }]);
    expect(await text((await storage.read("pipe/run/notebooks/train.ipynb")).stream)).toBe('{"cells":[]}');
  });

  it("refuses searches and zips above PIPELINE/RUN, and serves them from a run down", async () => {
    const storage = runsVolume(() => [{ taskId: "train", notebook }]);
    for (const path of ["", "pipe"]) {
      const search = await failure(storage.search(path, "out"));
      expect(search.storageCode).toBe("invalid_argument");
      expect(search.message).toContain("PIPELINE/RUN");
      expect((await failure(zipFolder(storage, path))).storageCode).toBe("invalid_argument");
    }
    expect((await storage.search("pipe/run", "out")).map((entry) => entry.path)).toEqual(["pipe/run/artifacts/out.txt"]);
    expect((await buffer(await zipFolder(storage, "pipe/run"))).toString("latin1")).toContain("artifacts/out.txt");
  });
});
