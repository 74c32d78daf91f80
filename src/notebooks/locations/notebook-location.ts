/**
 * Reading and writing a notebook wherever its path points: a local file, an http(s) URL (input
 * only), an s3:// object, or a Capstan volume (`VOLUME:PATH`) through the files of the caller's
 * teams. The place is chosen from the path alone; a local file is read and written by the caller.
 */
import { NotebookFormatError, NotebookLocationError, OutputNotWritableError } from "../errors.js";
import { fetchNotebookText } from "./http-notebook.js";
import { isHttpUrl, isS3Url, refuseRemote, volumePath } from "./path-scheme.js";
import { readS3Notebook, writeS3Notebook } from "./s3-notebook.js";

/** Files on Capstan volumes, as the caller may reach them (the CLI's client: its user's teams). */
export interface VolumeFiles {
  readText(volume: string, path: string): Promise<string>;
  writeText(volume: string, path: string, text: string): Promise<void>;
}

/** What reading and writing remote notebooks may use. */
export interface NotebookPlaces {
  /** Reaches `VOLUME:PATH` notebooks; without it such paths are refused with the reason. */
  volumes?: VolumeFiles | undefined;
  /** Environment for the S3 client (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
}

function volumesOrRefuse(path: string, places: NotebookPlaces): VolumeFiles {
  if (places.volumes === undefined) {
    throw new NotebookLocationError(path, "VOLUME:PATH notebooks are read and written through a Capstan server; run `capstan login` first (or write a local file whose name holds ':' as ./NAME)");
  }
  return places.volumes;
}

/** The text of a remote input notebook, or undefined when `path` is a local file (or `-`). */
export async function readRemoteNotebook(path: string, places: NotebookPlaces = {}): Promise<string | undefined> {
  if (isHttpUrl(path)) return fetchNotebookText(path);
  if (isS3Url(path)) return readS3Notebook(path, places.env);
  refuseRemote(path, "read");
  const onVolume = volumePath(path);
  if (onVolume === undefined) return undefined;
  const volumes = volumesOrRefuse(path, places);
  try {
    return await volumes.readText(onVolume.volume, onVolume.path);
  } catch (error) {
    throw new NotebookFormatError(path, `cannot read the input notebook: ${(error as Error).message}`, { cause: error });
  }
}

/** How to write the output notebook at `path`, or undefined when it is a local file (or `-`). */
export function remoteNotebookWriter(path: string, places: NotebookPlaces = {}): ((text: string) => Promise<void>) | undefined {
  if (isS3Url(path)) return (text) => writeS3Notebook(path, text, places.env);
  refuseRemote(path, "write");
  const onVolume = volumePath(path);
  if (onVolume === undefined) return undefined;
  const volumes = volumesOrRefuse(path, places);
  return async (text) => {
    try {
      await volumes.writeText(onVolume.volume, onVolume.path, text);
    } catch (error) {
      throw new OutputNotWritableError(path, { cause: error });
    }
  };
}
