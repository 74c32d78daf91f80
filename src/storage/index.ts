/** Storage: one interface over team volumes (local folders, mounted claims, S3 buckets, HDFS folders over WebHDFS), path checks, zips. */
export type { ByteRange, EntryType, ListOptions, ListPage, ReadResult, SearchOptions, Storage, StorageEntry, WriteOptions } from "./storage.js";
export { StorageError, type StorageErrorCode } from "./storage-error.js";
export { normalizePath, pathSegments, insideRoot, isSameOrInside, MAX_PATH_BYTES, MAX_SEGMENT_BYTES } from "./storage-path.js";
export { contentTypeOf, isActiveContent } from "./content-type.js";
export { compareUtf8 } from "./name-order.js";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./storage-limits.js";
export { LocalStorage, type LocalStorageOptions } from "./local/local-storage.js";
export { S3Storage, type S3Credentials, type S3StorageOptions } from "./s3/s3-storage.js";
export { WebHdfsStorage, type WebHdfsStorageOptions } from "./webhdfs/index.js";
export { zipFolder } from "./zip-folder.js";
export { VolumeRegistry, type TeamSecretReader, type Volume, type VolumeRegistryOptions } from "./volumes.js";
export { homeVolumeName, homeVolumeStorage, isHomeVolumeName, RUNS_VOLUME_NAME, runsVolumeStorage, VirtualTreeStorage, type RunsSource, type RunTaskOutput, type SandboxHome, type TreeChild, type TreeNode, type TreeResolver } from "./virtual/index.js";
