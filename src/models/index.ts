/** The model registry's domain: names and aliases, and the checked, content-hashed copy of a version's files. */
export { ALIAS_PATTERN, checkAliasName, checkModelName, MODEL_NAME_PATTERN } from "./model-names.js";
export { copyModelArtifact, type CopiedModel } from "./model-artifact.js";
export { modelArchiveStream, writeModelArchive } from "./model-export.js";
