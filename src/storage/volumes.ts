/**
 * Team volumes from capstan.yaml's `volumes:` section: each a name, an owning team, a kind and a
 * Storage. The registry is the one place that decides who sees a volume: a caller passes the
 * teams it belongs to, and a volume of another team is not_found with the same message as one
 * that does not exist (404, never 403, so names of other teams' volumes do not leak).
 */
import { isAbsolute, resolve } from "node:path";
import type { VolumeConfigFile, VolumesConfigFile } from "../config/index.js";
import { LocalStorage } from "./local/local-storage.js";
import { S3Storage, type S3Credentials } from "./s3/s3-storage.js";
import type { Storage } from "./storage.js";
import { WebHdfsStorage } from "./webhdfs/index.js";
import { StorageError } from "./storage-error.js";
import { isHomeVolumeName, RUNS_VOLUME_NAME } from "./virtual/index.js";

/** A configured volume. */
export interface Volume {
  name: string;
  team: string;
  /** A configured kind, or a view the platform makes: a user's sandbox homes, or run outputs. */
  kind: VolumeConfigFile["kind"] | "home" | "runs";
  description: string | undefined;
  /** Nobody writes through Capstan. */
  readOnly: boolean;
  /** The one user who sees a home volume; undefined for team volumes. */
  owner?: string;
  storage: Storage;
}

/** Reads the keys of a team secret (the secret store's data for `team`/`secret`). */
export type TeamSecretReader = (team: string, secret: string) => Promise<Record<string, string>>;

/** Options of {@link VolumeRegistry.fromConfig}. */
export interface VolumeRegistryOptions {
  /** Folder that relative `path`s are resolved from (the folder of capstan.yaml). */
  baseDir: string;
  /** Environment for `access_key_id_env` / `secret_access_key_env` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Reads team secrets for `credentials.secret`; required when a volume names one. */
  readSecret?: TeamSecretReader;
}

/** The volumes of a configuration, and who may see them. */
export class VolumeRegistry {
  private constructor(private readonly volumes: ReadonlyMap<string, Volume>) {}

  /** Builds every volume of the section; nothing is contacted until a volume is used. */
  static fromConfig(section: VolumesConfigFile | undefined, options: VolumeRegistryOptions): VolumeRegistry {
    const volumes = new Map<string, Volume>();
    for (const [name, config] of Object.entries(section ?? {})) {
      if (name === RUNS_VOLUME_NAME || isHomeVolumeName(name))
        throw new StorageError("invalid_argument", `volumes.${name}: the names "runs" and "home-…" are the platform's own (run outputs, sandbox homes); rename the volume`);
      volumes.set(name, {
        name,
        team: config.team,
        kind: config.kind,
        description: config.description,
        readOnly: config.read_only ?? false,
        storage: storageOf(name, config, options),
      });
    }
    return new VolumeRegistry(volumes);
  }

  /** The volumes of `teams`, by name. */
  list(teams: readonly string[]): Volume[] {
    return [...this.volumes.values()].filter((volume) => teams.includes(volume.team)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** The volumes whose team `canRead` accepts (a principal's check: admins see every team's), by name. */
  visible(canRead: (team: string) => boolean): Volume[] {
    return this.list([...new Set([...this.volumes.values()].map((volume) => volume.team))].filter(canRead));
  }

  /** The volume `name` if it belongs to one of `teams`; otherwise not_found, whether or not it exists. */
  get(name: string, teams: readonly string[]): Volume {
    const volume = this.volumes.get(name);
    if (volume === undefined || !teams.includes(volume.team))
      throw new StorageError("not_found", `no volume named ${JSON.stringify(name)} among your teams' volumes`);
    return volume;
  }
}

function storageOf(name: string, config: VolumeConfigFile, options: VolumeRegistryOptions): Storage {
  if (config.kind === "local" || config.kind === "pvc")
    return new LocalStorage({ root: isAbsolute(config.path) ? config.path : resolve(options.baseDir, config.path) });
  if (config.kind === "webhdfs") return webhdfsStorageOf(name, config, options);
  const env = options.env ?? process.env;
  let credentials: S3Credentials | (() => Promise<S3Credentials>) | undefined;
  const wanted = config.credentials;
  if (wanted !== undefined && "secret" in wanted) {
    const readSecret = options.readSecret;
    if (readSecret === undefined)
      throw new StorageError("backend", `volume ${name} takes its keys from secret ${wanted.secret}, but no secret store was given`);
    credentials = async () => {
      const data = await readSecret(config.team, wanted.secret);
      const accessKeyId = data.access_key_id;
      const secretAccessKey = data.secret_access_key;
      if (accessKeyId === undefined || secretAccessKey === undefined)
        throw new StorageError("backend", `secret ${wanted.secret} of team ${config.team} needs the keys access_key_id and secret_access_key (for volume ${name})`);
      return { accessKeyId, secretAccessKey };
    };
  } else if (wanted !== undefined) {
    const accessKeyId = env[wanted.access_key_id_env];
    const secretAccessKey = env[wanted.secret_access_key_env];
    credentials = () =>
      accessKeyId === undefined || secretAccessKey === undefined
        ? Promise.reject(
            new StorageError("backend", `volume ${name} reads its keys from $${wanted.access_key_id_env} and $${wanted.secret_access_key_env}, which are not both set`),
          )
        : Promise.resolve({ accessKeyId, secretAccessKey });
  }
  return new S3Storage({
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    region: config.region ?? "us-east-1",
    bucket: config.bucket,
    ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
    forcePathStyle: config.path_style ?? false,
    ...(credentials === undefined ? {} : { credentials }),
  });
}

function webhdfsStorageOf(name: string, config: Extract<VolumeConfigFile, { kind: "webhdfs" }>, options: VolumeRegistryOptions): Storage {
  const wanted = config.credentials;
  const readSecret = options.readSecret;
  if (wanted !== undefined && readSecret === undefined)
    throw new StorageError("backend", `volume ${name} takes its delegation token from secret ${wanted.secret}, but no secret store was given`);
  return new WebHdfsStorage({
    url: config.url,
    ...(config.path === undefined ? {} : { root: config.path }),
    ...(config.user === undefined ? {} : { user: config.user }),
    ...(config.datanode_hosts === undefined ? {} : { datanodeHosts: config.datanode_hosts }),
    ...(wanted === undefined || readSecret === undefined
      ? {}
      : {
          delegationToken: async () => {
            const token = (await readSecret(config.team, wanted.secret)).delegation_token;
            if (token === undefined) throw new StorageError("backend", `secret ${wanted.secret} of team ${config.team} needs the key delegation_token (for volume ${name})`);
            return token;
          },
        }),
  });
}
