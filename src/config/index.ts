/** Configuration: capstan.yaml, environment overrides, flags. */
export { loadConfig, ConfigError, INSTALL_ROOT, type CapstanConfig, type ConfigOverrides, type PipelinesGitConfig } from "./config.js";
export { configSchema, type ConfigFile } from "./config-schema.js";
export type { SandboxesConfigFile, SandboxProfileFile } from "./sandboxes-schema.js";
export type { VolumeConfigFile, VolumesConfigFile } from "./storage-schema.js";
