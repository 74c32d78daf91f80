/** The model registry's domain: names and aliases, the checked, content-hashed copy of a version's files, and versions that tasks declare. */
export { ALIAS_PATTERN, checkAliasName, checkModelName, MODEL_NAME_PATTERN } from "./model-names.js";
export { copyModelArtifact, type CopiedModel } from "./model-artifact.js";
export { modelArchiveStream, writeModelArchive } from "./model-export.js";
export { artifactLocation, ModelStorage, type ArtifactLocation, type ModelStorageOptions } from "./model-storage.js";
export { numericOutputs } from "./model-metrics.js";
export { resolveTaskModelPath, type TaskModelFolders } from "./task-model-path.js";
export { TaskModelRegistrar, type TaskModelRegistrarOptions } from "./task-registration.js";
