/** The HTTP listeners of the model server: inference, management, and the token keys they check. */
export { createInferenceApi } from "./inference-api.js";
export { createManagementApi, type ManagementApiOptions } from "./management-api.js";
export { createHttpApp, sendError, type HttpAppOptions } from "./http-app.js";
export { TokenKeys, type KeyKind } from "./token-keys.js";
