/**
 * Sandboxes: personal JupyterLab environments with persistent homes, owned by a user in a team,
 * started from admin-defined profiles through a backend (local processes or Kubernetes pods), served through
 * Capstan's authenticating proxy from an origin of their own, reached over SSH through the API's WebSocket,
 * and stopped when idle.
 */
export type { SandboxBackend, SandboxExit, SandboxLaunch, SandboxRuntime, SandboxSshEndpoint } from "./backend.js";
export { SandboxConflictError, SandboxForbiddenError, SandboxInputError, SandboxNotFoundError, SandboxQuotaError, SandboxStartError } from "./errors.js";
export { IdleCuller, type IdleCullerOptions } from "./idle-culler.js";
export { canMove } from "./lifecycle.js";
export { LocalSandboxBackend, type LocalSandboxBackendOptions } from "./local/local-backend.js";
// The Kubernetes backend is imported from ./kubernetes/index.js where it is used, so that this entry does not load Kubernetes' client.
export type { KubernetesSandboxBackend, KubernetesSandboxBackendOptions } from "./kubernetes/index.js";
export { checkSandboxName, isSandboxId } from "./names.js";
export { DEFAULT_SANDBOX_ORIGIN, quotaOf, resolveSandboxSettings, sandboxOrigin, type SandboxProfile, type SandboxQuota, type SandboxSettings, type VolumeMount } from "./profiles.js";
export { SandboxService, type CreateSandboxInput, type SandboxServiceOptions, type SandboxTarget } from "./sandbox-service.js";
export type { SandboxView } from "./sandbox-view.js";
export { SandboxProxy, SandboxOrigins, SANDBOX_COOKIE, type SandboxProxyOptions } from "./proxy/index.js";
export { connectSshd, pipeSshTunnel, sshdPath, type SshTunnelOptions } from "./ssh/index.js";
