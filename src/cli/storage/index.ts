/** What `capstan storage` is built from: VOLUME:PATH locations, the storage client, transfers and their progress. */
export { joinVolumePath, lastName, LocationError, parseLocation, volumeLocation, type LocalLocation, type Location, type VolumeLocation } from "./location.js";
export { HttpStorageClient, ServerOnlyStorageClient, type Download, type StorageClient, type UploadSource } from "./storage-client.js";
export type { CreateShareRequest, EntryPage, EntryView, ShareView, VolumeView } from "./storage-views.js";
export { copyEntries, folderEntries, type CopiedEntry, type CopyOptions } from "./transfers.js";
export { formatBytes, transferProgress, type TransferProgress } from "./transfer-progress.js";
export { isNotFound } from "./http-request.js";
