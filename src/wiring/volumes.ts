/**
 * The team volumes of the configuration as a VolumeRegistry: folders of local and pvc volumes as
 * configured (made absolute by the config), S3 keys from the owning team's secret through the
 * secret store, or from the Capstan process's environment. Nothing is contacted until a volume is used.
 */
import type { CapstanConfig } from "../config/index.js";
import type { SecretService } from "../secrets/index.js";
import { VolumeRegistry } from "../storage/index.js";

/** The registry of `config.volumes`; S3 keys named by `credentials.secret` are read from `secrets` when first needed. */
export function openVolumes(config: CapstanConfig, secrets: SecretService): VolumeRegistry {
  return VolumeRegistry.fromConfig(config.volumes, {
    // loadConfig has made every folder absolute already.
    baseDir: config.home,
    readSecret: (team, secret) =>
      secrets.resolve(team, {
        access_key_id: { secret, key: "access_key_id" },
        secret_access_key: { secret, key: "secret_access_key" },
      }),
  });
}
