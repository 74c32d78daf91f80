/**
 * Copies a model file or folder into a private folder without ever following a link: each entry is
 * opened with O_NOFOLLOW (folders also with O_DIRECTORY), the opened descriptor's real path must be
 * exactly where the entry was expected (so a folder on the way swapped for a link is caught), and
 * the data is read from that descriptor. A link, fifo, socket or device is refused, even one swapped
 * in by a task still running between a check and the copy.
 */
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { InvalidRequestError } from "../scheduler/index.js";

const CHUNK = 1024 * 1024;
const PROC_FDS = "/proc/self/fd";
// O_NONBLOCK: opening a fifo must not wait for a writer; it is refused once opened.
const NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Where an open descriptor really is (Linux: /proc; elsewhere the path's real path, checked against the descriptor's inode). */
function openedPath(fd: number, path: string): string {
  if (existsSync(PROC_FDS)) return readlinkSync(join(PROC_FDS, String(fd)));
  const opened = fstatSync(fd);
  const real = realpathSync(path);
  const now = statSync(real);
  return now.ino === opened.ino && now.dev === opened.dev ? real : `${real} (another file)`;
}

/** Thrown when an entry is a link or not a plain file or folder; `relativePath` is "" for the top. */
export class ModelCopyRefusal extends InvalidRequestError {
  constructor(
    readonly relativePath: string,
    readonly reason: "link" | "special",
    message: string,
  ) {
    super(message);
  }
}

function openEntry(path: string, expected: string, relativePath: string, display: string): { fd: number; isDir: boolean } {
  let fd: number;
  try {
    fd = openSync(path, NO_FOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw new ModelCopyRefusal(relativePath, "link", `${display} is a symbolic link`);
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() && !stat.isDirectory()) throw new ModelCopyRefusal(relativePath, "special", `${display} is neither a file nor a folder`);
    if (openedPath(fd, path) !== expected) throw new ModelCopyRefusal(relativePath, "link", `${display} is reached through a symbolic link`);
    return { fd, isDir: stat.isDirectory() };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function copyFromDescriptor(fd: number, target: string): void {
  const out = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) break;
      let written = 0;
      while (written < read) written += writeSync(out, buffer, written, read - written);
    }
  } finally {
    closeSync(out);
  }
}

export interface CopyWithoutLinksOptions {
  /** Called just before each entry is opened (relative path, "" for the top): where a racing writer would strike. */
  beforeOpen?: (relativePath: string) => void;
}

/**
 * Copies `source` (a real path, no links on the way) to `target` (which must not exist), refusing
 * any link or special file met on the way with a ModelCopyRefusal.
 */
export function copyWithoutLinks(source: string, target: string, options: CopyWithoutLinksOptions = {}): void {
  const copy = (path: string, expected: string, to: string, relativePath: string): void => {
    options.beforeOpen?.(relativePath);
    const { fd, isDir } = openEntry(path, expected, relativePath, relativePath === "" ? source : relativePath);
    try {
      if (!isDir) {
        copyFromDescriptor(fd, to);
        return;
      }
      mkdirSync(to, { mode: 0o700 });
      // Listed through the opened folder itself (Linux), not through its name that may have changed since.
      const listed = existsSync(PROC_FDS) ? join(PROC_FDS, String(fd)) : path;
      for (const name of readdirSync(listed).sort()) {
        copy(join(path, name), join(expected, name), join(to, name), relativePath === "" ? name : join(relativePath, name));
      }
    } finally {
      closeSync(fd);
    }
  };
  copy(source, source, target, "");
}
