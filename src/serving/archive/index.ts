/** Model archives: reading .mar files and deciding where a register call may take one from. */
export { openModelArchive, type ModelArchive, type Manifest, type ManifestModel, type OpenArchiveOptions } from "./model-archive.js";
export { resolveModelUrl, type ModelUrlOptions } from "./model-url.js";
export { unpackZip, ZipFormatError } from "./zip-reader.js";
