/** The configuration of `capstan serve`: TorchServe's flags and config.properties keys. */
export { loadServeConfig, ServeConfigError, type ServeConfig, type ServeFlags, type ListenAddress } from "./serve-config.js";
export { parseJavaProperties } from "./java-properties.js";
