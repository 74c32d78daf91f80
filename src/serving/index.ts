/**
 * Serving: `capstan serve`, a model server that speaks TorchServe's inference, management and
 * metrics APIs and runs .mar archives' Python handlers in worker processes. See docs/serving.md.
 */
export { startModelServer, type ModelServer, type ModelServerOptions } from "./model-server.js";
export { loadServeConfig, ServeConfigError, type ServeConfig, type ServeFlags } from "./config/index.js";
export { ServingError } from "./errors.js";
