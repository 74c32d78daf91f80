/**
 * Where registered versions' files are kept: in the home (`models/NAME/SHA256[.mar]`, the default),
 * or, for a team named in capstan.yaml's `models.store`, on that team's volume (a local folder, a
 * mounted claim or an S3 bucket prefix) under the same `models/NAME/…` path, written and read
 * through the storage interface. A version's artifact path says which: relative to the home, or
 * `VOLUME:PATH`. The same content is written once per place.
 */
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { ConfigError } from "../config/index.js";
import { StorageError, zipFolder, type Storage, type Volume, type VolumeRegistry } from "../storage/index.js";
import { copyIntoHome, inspectModel, type CopiedModel, type InspectedModel } from "./model-artifact.js";
import { modelArchiveStream } from "./model-export.js";

export interface ModelStorageOptions {
  home: string;
  volumes: VolumeRegistry;
  /** Per team, the name of its volume that takes its versions (`models.store`). */
  stores: Readonly<Record<string, string>>;
}

/** Where a stored version lies. */
export type ArtifactLocation = { place: "home"; path: string } | { place: "volume"; volume: string; path: string };

/** Splits a stored artifact path: `VOLUME:PATH` on a volume, else relative to the home (home paths never hold ':'). */
export function artifactLocation(artifactPath: string): ArtifactLocation {
  const colon = artifactPath.indexOf(":");
  return colon < 0 ? { place: "home", path: artifactPath } : { place: "volume", volume: artifactPath.slice(0, colon), path: artifactPath.slice(colon + 1) };
}

const isStorageCode = (error: unknown, code: string): boolean => error instanceof StorageError && error.code === code;

async function exists(storage: Storage, path: string): Promise<boolean> {
  try {
    await storage.stat(path);
    return true;
  } catch (error) {
    if (isStorageCode(error, "not_found")) return false;
    throw error;
  }
}

/** The registry's places for files, from the configuration. */
export class ModelStorage {
  readonly #home: string;
  readonly #byTeam: ReadonlyMap<string, Volume>;
  readonly #volumes: VolumeRegistry;

  /** Checks `models.store`: each named volume exists and belongs to its team (a ConfigError naming the entry otherwise). */
  constructor(options: ModelStorageOptions) {
    this.#home = options.home;
    this.#volumes = options.volumes;
    const byTeam = new Map<string, Volume>();
    for (const [team, name] of Object.entries(options.stores)) {
      let volume: Volume;
      try {
        volume = options.volumes.get(name, [team]);
      } catch {
        throw new ConfigError(`models.store.${team}: no volume ${JSON.stringify(name)} of team ${team} is configured under volumes:; name a volume whose team is ${team}`);
      }
      if (volume.readOnly) throw new ConfigError(`models.store.${team}: volume ${name} is read-only; model versions are written there`);
      byTeam.set(team, volume);
    }
    this.#byTeam = byTeam;
  }

  /**
   * Checks `source` as a model archive or folder, hashes it and copies it to the team's place; throws
   * InvalidRequestError naming `path`. `checkAgain` runs once the private copy is taken and before it
   * is stored (a caller that checked where `source` leads checks it again there).
   */
  async put(source: string, name: string, team: string, checkAgain?: () => void): Promise<CopiedModel> {
    const model = await inspectModel(source, this.#home);
    try {
      checkAgain?.();
      const { source: _source, files: _files, discard: _discard, ...copied } = model;
      const volume = this.#byTeam.get(team);
      if (volume === undefined) return { ...copied, artifactPath: copyIntoHome(model, this.#home, name) };
      return { ...copied, artifactPath: `${volume.name}:${await this.#upload(model, volume.storage, name)}` };
    } finally {
      model.discard();
    }
  }

  /**
   * Writes the model under models/NAME/ on a volume unless that content is there; answers its path
   * there. A folder is complete once `SHA256.complete` stands beside it (written last), so a folder
   * left half-written by a crash is written again; files are written in place (a folder moved on S3
   * is a copy of every object anyway).
   */
  async #upload(model: InspectedModel, storage: Storage, name: string): Promise<string> {
    if (model.kind === "mar") {
      const target = `models/${name}/${model.sha256}.mar`;
      if (await exists(storage, target)) return target;
      try {
        await storage.write(target, createReadStream(model.source));
      } catch (error) {
        // Another writer stored the same content first.
        if (!isStorageCode(error, "exists")) throw error;
      }
      return target;
    }
    const target = `models/${name}/${model.sha256}`;
    const marker = `${target}.complete`;
    if (await exists(storage, marker)) return target;
    for (const file of model.files) await storage.write(`${target}/${file.split("\\").join("/")}`, createReadStream(join(model.source, file)), { overwrite: true });
    await storage.write(marker, Readable.from([Buffer.from(`${model.sha256}\n`)]), { overwrite: true });
    return target;
  }

  /** Where a stored version can be read, for people: an absolute path in the home, or `VOLUME:PATH`. */
  describe(artifactPath: string): string {
    const location = artifactLocation(artifactPath);
    return location.place === "home" ? join(this.#home, location.path) : artifactPath;
  }

  /** The stored version as one archive: a .mar as stored, a model folder zipped the way a .mar is laid out. */
  async archive(artifactPath: string, kind: "mar" | "dir"): Promise<Readable> {
    const location = artifactLocation(artifactPath);
    if (location.place === "home") return modelArchiveStream(join(this.#home, location.path), kind);
    const storage = this.#storageOf(location.volume);
    if (kind === "mar") return (await storage.read(location.path)).stream;
    return zipFolder(storage, location.path);
  }

  #storageOf(name: string): Storage {
    for (const volume of this.#byTeam.values()) if (volume.name === name) return volume.storage;
    // A volume no longer named in models.store still holds the versions written there.
    const volume = this.#volumes.visible(() => true).find((v) => v.name === name);
    if (volume === undefined) throw new StorageError("not_found", `volume ${name}, where this version's files were written, is no longer configured`);
    return volume.storage;
  }
}
