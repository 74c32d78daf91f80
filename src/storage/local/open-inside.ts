/**
 * Opens a file that was found inside a folder and checks the open descriptor, not the name: a
 * path checked first and opened by name afterwards can be swapped for a symbolic link in between
 * (a task rewriting its artifacts while they are downloaded). The last component is opened with
 * O_NOFOLLOW; where the descriptor really leads is read from /proc/self/fd on Linux, and elsewhere
 * the descriptor's device and inode must match those of the path resolved again and found inside.
 */
import { close, constants, fstat, open as openCallback, type Stats } from "node:fs";
import { lstat, readlink, realpath } from "node:fs/promises";
import { promisify } from "node:util";
import { StorageError } from "../storage-error.js";
import { insideRoot, showPath as show } from "../storage-path.js";

const openFd = promisify(openCallback);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);

/** Read-only, never through a link in the last component, never blocking on a FIFO. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Whether /proc/self/fd names where a descriptor leads (decided on first use). */
let procFd: boolean | undefined;

/** An open file descriptor and what fstat said of it. */
export interface OpenedFile {
  fd: number;
  info: Stats;
}

/** How the descriptor is checked: "auto" (/proc where it exists), or always the inode comparison. */
export type DescriptorCheck = "auto" | "inode";

/**
 * Opens `real` (a resolved path already found inside `root`, itself resolved) and checks that the
 * descriptor still leads inside `root`; `path` is the volume path named in errors. A folder is
 * returned as opened (the caller refuses it); anything other than a file or folder is refused.
 */
export async function openInside(real: string, root: string, path: string, check: DescriptorCheck = "auto"): Promise<OpenedFile> {
  let fd: number;
  try {
    fd = await openFd(real, OPEN_FLAGS);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw swapped(path, error);
    throw error;
  }
  try {
    const info = await fstatFd(fd);
    if (!info.isFile() && !info.isDirectory()) throw new StorageError("wrong_type", `${show(path)} is not a regular file or folder; it is not served`, path);
    if (!(await leadsInside(fd, info, real, root, check))) throw swapped(path);
    return { fd, info };
  } catch (error) {
    await closeFd(fd).catch(() => undefined);
    throw error;
  }
}

/** Whether descriptor `fd` (opened from `real`, fstat `info`) is a file inside `root`. */
async function leadsInside(fd: number, info: Stats, real: string, root: string, check: DescriptorCheck): Promise<boolean> {
  if (check === "auto" && procFd !== false) {
    try {
      const target = await readlink(`/proc/self/fd/${fd}`);
      procFd = true;
      return target.startsWith("/") && insideRoot(root, target);
    } catch {
      // Not mounted (or not readable here): the inode comparison below, from now on if it never worked.
      if (procFd !== true) procFd = false;
    }
  }
  // No /proc: the path, resolved again, must lie inside and be the very file that was opened.
  const again = await realpath(real).catch(() => undefined);
  if (again === undefined || !insideRoot(root, again)) return false;
  const now = await lstat(again).catch(() => undefined);
  return now !== undefined && now.dev === info.dev && now.ino === info.ino;
}

function swapped(path: string, cause?: unknown): StorageError {
  return new StorageError("outside_volume", `${show(path)} was replaced by a symbolic link or moved out of the volume while it was opened; it is not served`, path, cause === undefined ? {} : { cause });
}
