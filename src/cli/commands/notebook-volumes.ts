/**
 * `VOLUME:PATH` notebooks for `capstan notebook run`: read and written through the Capstan server
 * as the signed-in user, so a run reaches exactly the volumes of that user's teams (a viewer
 * cannot write). The server is the one `capstan up` runs for the home (--home / CAPSTAN_HOME), or
 * CAPSTAN_SERVER, with the token of `capstan login` or CAPSTAN_TOKEN.
 */
import type { VolumeFiles } from "../../notebooks/locations/index.js";
import type { CapstanClient } from "../client.js";

/** Volume files through `client`'s storage API. */
function volumeFilesOf(client: CapstanClient): VolumeFiles {
  return {
    async readText(volume, path) {
      const download = await client.storage.download(volume, path);
      return new Response(download.body).text();
    },
    async writeText(volume, path, text) {
      const body = new Blob([text]).stream();
      await client.storage.upload(volume, path, { kind: "stream", body }, { overwrite: true });
    },
  };
}

/** A client's volume files when `paths` name a volume, else undefined; `close` ends the client. */
export async function notebookVolumes(paths: readonly string[]): Promise<{ files: VolumeFiles; close: () => Promise<void> } | undefined> {
  const { volumePath } = await import("../../notebooks/locations/index.js");
  if (!paths.some((path) => volumePath(path) !== undefined)) return undefined;
  const { loadConfig } = await import("../../config/index.js");
  const { clientFor } = await import("../client.js");
  const client = clientFor(loadConfig(), process.env["CAPSTAN_SERVER"] || undefined);
  return { files: volumeFilesOf(client), close: () => client.close() };
}
