/** The models of a server: versions, defaults, settings and their worker pools. */
export { ModelManager, type ModelManagerOptions, type ModelVersion, type RegisterRequest, type StatusAnswer } from "./model-manager.js";
export { resolveModelSettings, type ModelSettings, type RegisterParams, type ServerDefaults } from "./model-settings.js";
