/** Errors of storage operations: a CapstanError kind, a stable code, and the volume path at fault. */
import { CapstanError, type ErrorKind } from "../errors/index.js";

/** Stable codes of storage failures. */
export type StorageErrorCode =
  /** the path is not acceptable (traversal, absolute, NUL, backslash, too long) */
  | "invalid_path"
  /** an argument other than a path is not acceptable (a page size, a cursor) */
  | "invalid_argument"
  /** nothing at that path */
  | "not_found"
  /** something is already at the target, or a file stands where a folder is needed */
  | "exists"
  /** a folder where a file is needed, or the other way round */
  | "wrong_type"
  /** a move or copy of a folder into itself */
  | "into_itself"
  /** a byte range outside the file */
  | "invalid_range"
  /** the path leads outside the volume through a symbolic link */
  | "outside_volume"
  /** the disk or the quota is full */
  | "no_space"
  /** the backend refused or failed (the message says what it answered) */
  | "backend";

const KIND: Record<StorageErrorCode, ErrorKind> = {
  invalid_path: "invalid",
  invalid_argument: "invalid",
  not_found: "not_found",
  exists: "conflict",
  wrong_type: "conflict",
  into_itself: "invalid",
  invalid_range: "invalid",
  outside_volume: "invalid",
  no_space: "quota",
  backend: "unavailable",
};

/** A storage operation that failed, with the path it was about. */
export class StorageError extends CapstanError {
  override name = "StorageError";
  constructor(
    readonly storageCode: StorageErrorCode,
    message: string,
    readonly path?: string,
    options: ErrorOptions = {},
  ) {
    super(KIND[storageCode], storageCode, message, {
      ...options,
      ...(path === undefined ? {} : { details: { path } }),
    });
  }
}

/** Maps a Node.js file-system error to a StorageError about `path`; other errors pass through. */
export function fromFsError(error: unknown, path: string): unknown {
  if (error instanceof StorageError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const shown = path === "" ? "the volume's root" : JSON.stringify(path);
  switch (code) {
    case "ENOENT":
      return new StorageError("not_found", `${shown} does not exist`, path, { cause: error });
    case "EEXIST":
    case "ENOTEMPTY":
      return new StorageError("exists", `${shown} already exists`, path, { cause: error });
    case "ENOTDIR":
      return new StorageError("wrong_type", `a part of ${shown} is a file, not a folder`, path, { cause: error });
    case "EISDIR":
      return new StorageError("wrong_type", `${shown} is a folder, not a file`, path, { cause: error });
    case "ENOSPC":
    case "EDQUOT":
      return new StorageError("no_space", `no space left on the volume for ${shown} (${code === "EDQUOT" ? "quota reached" : "disk full"})`, path, { cause: error });
    case "ENAMETOOLONG":
      return new StorageError("invalid_path", `${shown} is too long for the file system`, path, { cause: error });
    default:
      return error;
  }
}
