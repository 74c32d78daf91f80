/** The sandbox proxy: per-sandbox origins, one-time open codes and sandbox cookies, HTTP and WebSocket to the upstream with Capstan's auth. */
export { SandboxProxy, type SandboxProxyOptions } from "./sandbox-proxy.js";
export { SandboxOrigins } from "./sandbox-origin.js";
export { SANDBOX_COOKIE } from "./forwarded-headers.js";
