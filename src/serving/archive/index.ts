/** Model archives: reading .mar (zip) and .tar.gz files, and deciding where a register call may take one from. */
export { openModelArchive, type ModelArchive, type Manifest, type ManifestModel, type OpenArchiveOptions } from "./model-archive.js";
export { resolveModelUrl, type ModelUrlOptions } from "./model-url.js";
export { unpackZip, ZipFormatError } from "./zip-reader.js";
export { unpackTarGz, TarFormatError, type TarLimits } from "./tar-reader.js";
