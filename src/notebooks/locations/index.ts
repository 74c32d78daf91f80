/** Where notebooks are read from and written to: local files, http(s) input, s3:// objects and Capstan volumes. */
export { isHttpUrl, isS3Url, pathScheme, refuseRemote, volumePath } from "./path-scheme.js";
export { readRemoteNotebook, remoteNotebookWriter, type NotebookPlaces, type VolumeFiles } from "./notebook-location.js";
export { parseS3Url } from "./s3-notebook.js";
